"""The performance harness: phase times, peak memory, and side-by-side comparisons as ratios.

Each measurement that compares peak memory runs in a fresh subprocess, because a process's
peak RSS only ever grows.
"""

from __future__ import annotations

import json
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from forgetctl.demo.portraits import canonical_views, write_views
from forgetctl.demo.world import load_world

ERASE_METHODS_FOR_MEMORY = ("ga", "npo", "pubg", "vgid")


def peak_memory() -> dict:
    """Peak memory of this process: what torch allocated on the GPU if the work ran there, the
    resident set (RSS) otherwise."""
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return {"peak_memory_mb": round(torch.cuda.max_memory_allocated() / 2**20, 1), "memory": "cuda max allocated"}
    # Linux reports ru_maxrss in KiB.
    return {"peak_memory_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1), "memory": "RSS"}


def generated_tokens(tokenizer, answers: list[str]) -> int:
    return sum(len(tokenizer(a, add_special_tokens=False)["input_ids"]) + 1 for a in answers)  # + end of sequence


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{cpu}, {torch.get_num_threads()} torch threads, {gpu}, torch {torch.__version__}"


def erase_once(method: str = "pubg", n_people: int = 1, evaluate: bool = True) -> dict:
    """One demo erase (with evaluation by the default judge), timed per phase, with the rates
    of its hot phases: training steps and generated tokens per second."""
    from forgetctl.benchmarks import demo_request
    from forgetctl.benchmarks.worlds import choose, demo_world
    from forgetctl.engine.erase import erase
    from forgetctl.evaluation.evaluate import evaluate_run

    with tempfile.TemporaryDirectory() as tmp:
        forget, retain = choose(demo_world(), n_people, 4)
        request = demo_request(Path(tmp), forget, retain, method=method)
        started = time.perf_counter()
        result = erase(request.spec, Path(tmp) / "home", "perf")
        timings = dict(result.manifest["timings_s"])
        probes = [p for splits in result.forget.values() for split in splits.values() for p in split] + result.retain
        tokenizer = result.loaded.processor.tokenizer
        rates = {
            "train_steps_per_s": round(len(result.manifest["loss_log"]) / timings["train"], 2),
            "harvest_tokens_per_s": round(generated_tokens(tokenizer, [a for p in probes for a in p.before]) / timings["harvest"], 1),
            "evaluate_tokens_per_s": round(generated_tokens(tokenizer, [a for p in probes for a in p.after]) / timings["evaluate"], 1),
        }
        if evaluate:
            t = time.perf_counter()
            evaluate_run(result, request.spec.people, request.grading)
            timings["judge_and_metrics"] = round(time.perf_counter() - t, 3)
        timings["total"] = round(time.perf_counter() - started, 3)
    return {"timings_s": timings, "rates": rates, **peak_memory()}


def in_subprocess(function: str, **kwargs) -> dict:
    """Run `forgetctl.benchmarks.performance.<function>(**kwargs)` in a fresh interpreter; return its JSON."""
    code = f"import json; from forgetctl.benchmarks import performance as p; print(json.dumps(p.{function}(**{kwargs!r})))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def generation_batched_vs_sequential(batch_size: int = 16, n: int = 48) -> dict:
    from forgetctl.demo import demo_model_dir
    from forgetctl.engine.generation import generate_answers
    from forgetctl.engine.loading import load_model
    from forgetctl.prompts import IDENTITY_QUESTIONS

    loaded = load_model(demo_model_dir(), device="cpu")
    world = load_world()
    images = [canonical_views(p)[0] for p in world.known][:n]
    questions = [IDENTITY_QUESTIONS[i % len(IDENTITY_QUESTIONS)] for i in range(len(images))]
    generate_answers(loaded, images[:2], questions[:2])  # warm-up
    t = time.perf_counter()
    sequential = generate_answers(loaded, images, questions, batch_size=1)
    sequential_s = time.perf_counter() - t
    t = time.perf_counter()
    batched = generate_answers(loaded, images, questions, batch_size=batch_size)
    batched_s = time.perf_counter() - t
    return {
        "prompts": len(images), "batch_size": batch_size, "sequential_s": round(sequential_s, 2),
        "batched_s": round(batched_s, 2), "speedup": round(sequential_s / batched_s, 2),
        "identical_answers": sum(a == b for a, b in zip(sequential, batched)) / len(images),
    }


def reference_memory(mode: str) -> dict:
    """Peak memory when the reference is the adapter-disabled model vs a second loaded copy."""
    from forgetctl.demo import demo_model_dir
    from forgetctl.engine.loading import load_model
    from forgetctl.engine.training import wrap_with_lora
    from forgetctl.types import TrainingConfig

    loaded = load_model(demo_model_dir(), device="cpu")
    loaded.model = wrap_with_lora(loaded, TrainingConfig())
    if mode == "second-copy":
        reference = load_model(demo_model_dir(), device="cpu").model
        parameters = sum(p.numel() for p in reference.parameters())
    else:
        with loaded.model.disable_adapter():
            parameters = 0  # the same weights, viewed without the adapter
    total = sum(p.numel() for p in loaded.model.parameters()) + parameters
    return {"mode": mode, "parameters_held": total, **peak_memory()}


def npo_reference_once_vs_every_step(steps: int = 30) -> dict:
    """Time of computing NPO's reference NLL once per sample vs at every step."""
    from forgetctl.demo import demo_model_dir
    from forgetctl.engine.erase import examples
    from forgetctl.engine.images import read_photos
    from forgetctl.engine.loading import load_model
    from forgetctl.engine.losses import sequence_nll
    from forgetctl.engine.training import batches, wrap_with_lora
    from forgetctl.engine.unlearning import UnlearningContext
    from forgetctl.prompts import IDENTITY_QUESTIONS
    from forgetctl.types import TrainingConfig

    world = load_world()
    loaded = load_model(demo_model_dir(), device="cpu")
    with tempfile.TemporaryDirectory() as tmp:
        write_views(world.known[0], Path(tmp))
        photos = read_photos(Path(tmp))[:4]
    forget = examples(photos, IDENTITY_QUESTIONS, [[world.known[0].identity_answer()] * len(IDENTITY_QUESTIONS)] * 4)
    loaded.model = wrap_with_lora(loaded, TrainingConfig())
    ctx = UnlearningContext(loaded, [], seed=0)
    t = time.perf_counter()
    with ctx.reference() as base:
        for start in range(0, len(forget), 16):
            sequence_nll(base, ctx.encode_examples(forget[start : start + 16]))
    once_s = time.perf_counter() - t
    t = time.perf_counter()
    stream = batches(forget, 8, random.Random(0))
    with ctx.reference() as base:
        for _ in range(steps):
            sequence_nll(base, ctx.encode_examples(next(stream)))
    every_step_s = time.perf_counter() - t
    return {"samples": len(forget), "steps": steps, "once_s": round(once_s, 3), "every_step_s": round(every_step_s, 3),
            "ratio": round(every_step_s / once_s, 2)}


def run_all(repeats: int = 3, people=(1, 5, 10)) -> dict:
    report = {"machine": machine()}
    runs = [in_subprocess("erase_once") for _ in range(repeats)]
    report["demo_erase"] = {
        "repeats": repeats,
        **{
            f"median_{part}": {k: round(statistics.median(r[part][k] for r in runs), 2) for k in runs[0][part]}
            for part in ("timings_s", "rates")
        },
        "peak_memory_mb": max(r["peak_memory_mb"] for r in runs), "memory": runs[0]["memory"],
    }
    report["generation"] = in_subprocess("generation_batched_vs_sequential")
    copies = {mode: in_subprocess("reference_memory", mode=mode) for mode in ("disable-adapter", "second-copy")}
    report["reference_memory"] = {**copies, "ratio_second_copy": round(
        copies["second-copy"]["peak_memory_mb"] / copies["disable-adapter"]["peak_memory_mb"], 3)}
    report["npo_reference"] = in_subprocess("npo_reference_once_vs_every_step")
    memory = {m: in_subprocess("erase_once", method=m, evaluate=False)["peak_memory_mb"] for m in ERASE_METHODS_FOR_MEMORY}
    report["peak_memory_by_method_mb"] = {**memory, **{f"{m}/ga": round(memory[m] / memory["ga"], 3) for m in memory}}
    report["people_scaling"] = {
        str(n): in_subprocess("erase_once", n_people=n, evaluate=False)["timings_s"] for n in people
    }
    return report
