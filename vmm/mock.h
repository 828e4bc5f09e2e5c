/* The mock hypervisor backend (vc_mock_ops in vmm/hypervisor.h) records
 * each call it gets, so unit tests can drive the ops and check what the
 * layer above asked for. */
#ifndef VC_MOCK_H
#define VC_MOCK_H

/* The calls since the last reset, one line each: the op's name and its
 * arguments, e.g. "start c1\nhotplug net eth0\nresize_vcpus 4\n"; "" for
 * none.  Owned by the mock: valid until the next call or reset. */
const char *vc_mock_calls(void);
void vc_mock_reset(void);

/* The next call of op (by name, e.g. "start") fails with errnum. */
void vc_mock_fail_next(const char *op, int errnum);

#endif
