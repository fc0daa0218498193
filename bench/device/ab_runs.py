"""Runs for bench/device/ab_job.sh: the current and the previous build, interleaved."""
import json
import os
import statistics
import subprocess
import sys
import time

G = ".device/guard"
BUILDS = {"current": f"{G}/tokalign", "previous": f"{G}/tokalign_prev"}


def steal():
    """The host's stolen time over all CPUs so far, in seconds (/proc/stat)."""
    f = open("/proc/stat").readline().split()
    return int(f[8]) / os.sysconf("SC_CLK_TCK") if len(f) > 8 else 0.0


def cmd(binary, data, out):
    return [f"{G}/lib/ld-linux-x86-64.so.2", "--library-path", f"{G}/lib", binary, "compile", "--data", data,
            "-t", ".device/tok/vicuna", "--template", "llava_v1", "--out", out, "--overwrite", "-j", "1"]


def one(build, data):
    s0, t = steal(), time.perf_counter()
    p = subprocess.Popen(cmd(BUILDS[build], data, "/dev/shm/ab_one"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)
    return {"mode": "one process", "build": build, "seconds": round(time.perf_counter() - t, 4),
            "user_s": round(ru.ru_utime, 3), "sys_s": round(ru.ru_stime, 3), "steal_s": round(steal() - s0, 3), "rc": status}


def every_core(build, data):
    n = os.cpu_count()
    s0, t = steal(), time.perf_counter()
    started = {}
    for i in range(n):
        p = subprocess.Popen(cmd(BUILDS[build], data, f"/dev/shm/ab_all{i}"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        started[p.pid] = time.perf_counter()
    times, user, sys_s, rcs = [], 0.0, 0.0, []
    while started:
        pid, status, ru = os.wait4(-1, 0)
        if pid in started:
            times.append(time.perf_counter() - started.pop(pid))
            user += ru.ru_utime
            sys_s += ru.ru_stime
            rcs.append(status)
    return {"mode": f"{n} processes at once", "build": build, "seconds": round(statistics.median(times), 4),
            "max_s": round(max(times), 4), "user_s": round(user, 3), "sys_s": round(sys_s, 3),
            "steal_s": round(steal() - s0, 3), "rc": max(rcs)}


def main():
    data, rounds_1, rounds_all = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    out = open(os.environ["OUT"] + "/ab.jsonl", "a")
    order = list(BUILDS)
    for b in order:
        one(b, data)  # warms the tokenizer cache and the page cache; not kept
    rows = []
    for r in range(rounds_1):
        for b in order if r % 2 == 0 else order[::-1]:
            rows.append(one(b, data))
            print(json.dumps(rows[-1]), file=out, flush=True)
    for r in range(rounds_all):
        for b in order if r % 2 == 0 else order[::-1]:
            rows.append(every_core(b, data))
            print(json.dumps(rows[-1]), file=out, flush=True)
    for mode in dict.fromkeys(x["mode"] for x in rows):
        for b in order:
            rs = [x for x in rows if x["mode"] == mode and x["build"] == b]
            secs = sorted(x["seconds"] for x in rs)
            cpu = statistics.median(x["user_s"] + x["sys_s"] for x in rs)
            print(f"{mode:>22} {b:>8}: n {len(rs)}  median {statistics.median(secs):.3f} s  "
                  f"quartile {secs[len(secs) // 4]:.3f}  min {secs[0]:.3f}  median CPU {cpu:.3f} s")


if __name__ == "__main__":
    main()
