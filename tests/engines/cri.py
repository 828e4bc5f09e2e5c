#!/usr/bin/python3
"""A small CRI (runtime.v1) client: drives containerd's CRI plugin, with
vcrun as the runc binary, through one pod's life as the kubelet would, and
prints one line per check ("ok   NAME" or "FAIL NAME: why") for
tests/engines/run.sh to count.

usage: cri.py --socket SOCK --gen DIR --runc-root DIR --run-root DIR
              --image REF --pause-image REF --guest-kernel RELEASE
              --log-dir DIR
The stubs are generated from cri.proto (beside this file) into --gen.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HEX64 = re.compile(r"^[0-9a-f]{64}$")


def generate(gen_dir):
    here = os.path.dirname(os.path.abspath(__file__))
    os.makedirs(gen_dir, exist_ok=True)
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", "-I", here,
                    "--python_out", gen_dir, "--grpc_python_out", gen_dir,
                    os.path.join(here, "cri.proto")], check=True)
    sys.path.insert(0, gen_dir)


class Report:
    def __init__(self):
        self.failed = 0

    def check(self, name, cond, why=""):
        if cond:
            print(f"ok   {name}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {name}{': ' + why if why else ''}", flush=True)
        return cond


def guest_figure(rt, pb, cid, script):
    """An integer a shell script prints in container cid, or None."""
    import grpc
    try:
        ex = rt.ExecSync(pb.ExecSyncRequest(container_id=cid, cmd=["sh", "-c", script],
                                            timeout=60), timeout=120)
        return int(ex.stdout.decode().strip()) if ex.exit_code == 0 else None
    except (grpc.RpcError, ValueError):
        return None


def processes_naming(*words):
    """Host processes (pid, command line) whose command line names one of
    words, this one excepted."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(w in cmd for w in words):
            found.append((int(pid), cmd.strip()))
    return found


def main():
    ap = argparse.ArgumentParser()
    for opt in ("socket", "gen", "runc-root", "run-root", "image",
                "pause-image", "guest-kernel", "log-dir"):
        ap.add_argument("--" + opt, required=True)
    a = ap.parse_args()
    generate(a.gen)
    import grpc
    import cri_pb2 as pb
    import cri_pb2_grpc as pbg

    r = Report()
    chan = grpc.insecure_channel("unix://" + a.socket)
    rt = pbg.RuntimeServiceStub(chan)
    img = pbg.ImageServiceStub(chan)
    timeout = 120  # a boot under TCG on a busy machine

    def call(name, fn, req):
        try:
            return fn(req, timeout=timeout)
        except grpc.RpcError as e:
            r.check(name, False, f"{e.code().name}: {e.details()}")
            return None

    v = call("cri: Version", rt.Version, pb.VersionRequest(version="v1"))
    if v is None:
        return 1
    r.check(f"cri: Version ({v.runtime_name} {v.runtime_version}, "
            f"API {v.runtime_api_version})", v.runtime_api_version == "v1")
    for ref in (a.image, a.pause_image):
        st = call(f"cri: ImageStatus {ref}", img.ImageStatus,
                  pb.ImageStatusRequest(image=pb.ImageSpec(image=ref)))
        r.check(f"cri: ImageStatus: {ref} imported", st is not None and st.image.id != "")

    # The pod: the host's network (no CNI here), a pid and ipc namespace
    # of its own that its containers share.
    os.makedirs(a.log_dir, exist_ok=True)
    sandbox_config = pb.PodSandboxConfig(
        metadata=pb.PodSandboxMetadata(name="vcrun-pod", uid=f"uid-{os.getpid()}",
                                       namespace="vcrun-test", attempt=0),
        hostname="vcrun-pod",
        log_directory=a.log_dir,
        linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
            namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.POD,
                                                 ipc=pb.POD))))
    res = call("cri: RunPodSandbox", rt.RunPodSandbox,
               pb.RunPodSandboxRequest(config=sandbox_config))
    if res is None:
        return 1
    pod = res.pod_sandbox_id
    pod_state = os.path.join(a.runc_root, pod)
    r.check("cri: RunPodSandbox: a 64-hex id, state under the stock runc root",
            HEX64.match(pod) is not None and os.path.exists(os.path.join(pod_state, "state.json")),
            f"id {pod}, {pod_state}/state.json")

    ids, mem_total = [], []
    for name, cmd in (("c1", ["sleep", "1000"]),
                      ("c2", ["sh", "-c", "echo started; exec sleep 1000"])):
        cfg = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=a.image), command=cmd,
            log_path=f"{name}.log",
            linux=pb.LinuxContainerConfig(resources=pb.LinuxContainerResources(
                memory_limit_in_bytes=128 << 20)))
        cres = call(f"cri: CreateContainer {name}", rt.CreateContainer,
                    pb.CreateContainerRequest(pod_sandbox_id=pod, config=cfg,
                                              sandbox_config=sandbox_config))
        if cres is None:
            continue
        cid = cres.container_id
        ok = call(f"cri: StartContainer {name}", rt.StartContainer,
                  pb.StartContainerRequest(container_id=cid)) is not None
        r.check(f"cri: CreateContainer + StartContainer {name} (64-hex id)",
                ok and HEX64.match(cid) is not None, cid)
        ids.append(cid)
        mem_total.append(guest_figure(rt, pb, cid, "sed -n 's/^MemTotal: *\\([0-9]*\\) kB/\\1/p' /proc/meminfo"))

    # Each container asks 128 MiB: the pod's VM grew by that when the
    # second joined (the first's is in both figures).
    if len(mem_total) == 2 and None not in mem_total:
        grew = (mem_total[1] - mem_total[0]) // 1024
        r.check(f"cri: the second container grew the pod's VM by its 128 MiB "
                f"(MemTotal grew {grew} MiB)", 120 <= grew <= 136)

    if len(ids) == 2:
        lst = call("cri: ListContainers", rt.ListContainers,
                   pb.ListContainersRequest(filter=pb.ContainerFilter(pod_sandbox_id=pod)))
        running = sorted(c.id for c in (lst.containers if lst else [])
                         if c.state == pb.CONTAINER_RUNNING)
        r.check("cri: ListContainers: both running", running == sorted(ids),
                f"running {running}")
        # One VM for the pod: a QEMU for its run directory, none other of ours.
        qemus = [p for p in processes_naming(a.run_root + "/")
                 if "qemu-system" in p[1].split(" ")[0]]
        r.check(f"cri: one QEMU for the pod's two containers (got {len(qemus)})",
                len(qemus) == 1)

        ex = call("cri: ExecSync", rt.ExecSync,
                  pb.ExecSyncRequest(container_id=ids[0], cmd=["uname", "-r"], timeout=60))
        out = ex.stdout.decode().strip() if ex else ""
        r.check(f"cri: ExecSync uname -r: the guest kernel ({out})",
                ex is not None and ex.exit_code == 0 and out == a.guest_kernel
                and out != os.uname().release, f"exit {ex.exit_code if ex else '-'}")

        st = call("cri: ContainerStats", rt.ContainerStats,
                  pb.ContainerStatsRequest(container_id=ids[0]))
        r.check("cri: ContainerStats answers for the container",
                st is not None and st.stats.attributes.id == ids[0],
                str(st.stats.attributes.id if st else ""))
        # The shim reads the host cgroup of the pid vcrun reports: a
        # member's holds its shim, whose few hundred KiB stand for the
        # container (its memory is the VM's, in the pod's cgroup), close to
        # what the guest charges the container; before placement it was
        # containerd's whole cgroup (hundreds of MiB).
        ws = st.stats.memory.working_set_bytes.value if st else None
        guest = guest_figure(rt, pb, ids[0],
                             "cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.current")
        r.check(f"cri: ContainerStats memory ({ws} bytes) is within 4 MiB of "
                f"the guest's figure ({guest} bytes)",
                ws is not None and guest is not None and abs(ws - guest) <= 4 << 20)

        limit = 64 << 20
        up = call("cri: UpdateContainerResources", rt.UpdateContainerResources,
                  pb.UpdateContainerResourcesRequest(
                      container_id=ids[0],
                      linux=pb.LinuxContainerResources(memory_limit_in_bytes=limit,
                                                       cpu_period=100000,
                                                       cpu_quota=50000)))
        # The container's cgroup in the guest has the new limit.
        ex = call("cri: ExecSync (memory.max)", rt.ExecSync, pb.ExecSyncRequest(
            container_id=ids[0], timeout=60,
            cmd=["sh", "-c", "cat /sys/fs/cgroup$(cut -d: -f3 /proc/self/cgroup)/memory.max"]))
        got = ex.stdout.decode().strip() if ex else ""
        r.check(f"cri: UpdateContainerResources: memory.max in the guest is {limit} (got {got})",
                up is not None and got == str(limit), ex.stderr.decode()[:200] if ex else "")
        # Half a CPU of quota asks one vCPU more of the pod's VM.
        want = min(2, os.cpu_count() or 1)
        cpus = guest_figure(rt, pb, ids[0], "nproc")
        r.check(f"cri: UpdateContainerResources grew the pod's VM to {want} vCPUs "
                f"(nproc {cpus})", cpus == want)

    stopped = call("cri: StopPodSandbox", rt.StopPodSandbox,
                   pb.StopPodSandboxRequest(pod_sandbox_id=pod)) is not None
    r.check("cri: StopPodSandbox", stopped)
    removed = call("cri: RemovePodSandbox", rt.RemovePodSandbox,
                   pb.RemovePodSandboxRequest(pod_sandbox_id=pod)) is not None
    r.check("cri: RemovePodSandbox", removed)

    # Nothing left: CRI's view, processes, state under the runc root, run
    # directories.
    left = []
    for _ in range(50):
        lp = call("cri: ListPodSandbox", rt.ListPodSandbox, pb.ListPodSandboxRequest())
        lc = call("cri: ListContainers", rt.ListContainers, pb.ListContainersRequest())
        left = ([p.id for p in lp.items] if lp else ["?"]) + \
               ([c.id for c in lc.containers] if lc else ["?"])
        procs = [p for p in processes_naming(a.run_root + "/", pod, *ids)
                 if re.search(r"qemu|virtiofsd|vsock-backend|vcrun.* shim ", p[1])]
        state = [d for d in [pod] + ids if os.path.exists(os.path.join(a.runc_root, d))]
        runs = os.listdir(a.run_root) if os.path.isdir(a.run_root) else []
        if not (left or procs or state or runs):
            break
        time.sleep(0.2)
    r.check("cri: no pod or container left in CRI", not left, str(left))
    r.check("cri: no QEMU, virtiofsd, vsock backend or shim left", not procs,
            "; ".join(c[:120] for _, c in procs[:3]))
    r.check("cri: no state left under the runc root", not state, str(state))
    r.check("cri: no run directory left", not runs, str(runs))
    return 1 if r.failed else 0


if __name__ == "__main__":
    sys.exit(main())
