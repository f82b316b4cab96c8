#!/usr/bin/env python3
"""PyTorch's fused AdamW (fp32, fused=True) step time on the sizes gpu_bench measured, and the goals
of the CUDA port checked against gpu_bench's output (its BENCH lines, file given as argument):
Adam8bit step >= 80% of copy bandwidth at >= 100M parameters, and faster than fused 32-bit AdamW."""
import re
import sys


def parse(path):
    rows = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"BENCH\s+(\S+)\s+n=(\d+)\s+ms=([\d.]+)\s+GBps=([\d.]+)\s+copy_frac=([\d.]+)", line)
            if m:
                rows[(m.group(1), int(m.group(2)))] = (float(m.group(3)), float(m.group(5)))
    return rows


def torch_adamw_ms(n, iters):
    import torch
    p = torch.zeros(n, device="cuda", dtype=torch.float32, requires_grad=True)
    p.grad = torch.randn(n, device="cuda", dtype=torch.float32) * 1e-2
    opt = torch.optim.AdamW([p], lr=1e-3, fused=True)
    for _ in range(3):
        opt.step()
    torch.cuda.synchronize()
    a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    a.record()
    for _ in range(iters):
        opt.step()
    b.record()
    torch.cuda.synchronize()
    ms = a.elapsed_time(b) / iters
    del opt, p
    torch.cuda.empty_cache()
    return ms


def main():
    rows = parse(sys.argv[1]) if len(sys.argv) > 1 else {}
    sizes = sorted({n for (_, n) in rows})
    try:
        import torch
        have_torch = torch.cuda.is_available()
        print("torch", torch.__version__, "cuda available:", have_torch)
    except ImportError:
        have_torch = False
        print("torch not installed: no PyTorch comparison")
    verdicts = []
    for n in sizes:
        adam8 = rows.get(("adam8bit", n))
        if adam8 is None:
            continue
        line = f"n={n}: Adam8bit {adam8[0]:.4f} ms ({adam8[1] * 100:.0f}% of copy bandwidth)"
        if have_torch:
            try:
                t = torch_adamw_ms(n, 5 if n >= 10**9 else 20)
                line += f"; torch fused AdamW fp32 {t:.4f} ms: Adam8bit {t / adam8[0]:.2f}x its speed"
                if n >= 10**8:
                    verdicts.append((f"Adam8bit faster than fused AdamW at n={n}", adam8[0] < t))
            except RuntimeError as e:  # out of memory at the largest size
                line += f"; torch AdamW not run ({str(e).splitlines()[0]})"
        print("TORCH", line)
        if n >= 10**8:
            verdicts.append((f"Adam8bit >= 80% of copy bandwidth at n={n}", adam8[1] >= 0.8))
    for what, ok in verdicts:
        print("GOAL", "MET    " if ok else "NOT MET", what)


if __name__ == "__main__":
    main()
