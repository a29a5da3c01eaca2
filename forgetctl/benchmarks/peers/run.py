"""`forgetctl bench peer`: a benchmark's forget split erased by forgetctl's engine, then measured
by the benchmark's own metrics (before and after) and by forgetctl's (leaks, USR, judge rubrics,
the knowledge tests, the default policy)."""

from __future__ import annotations

import io
import tempfile
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from forgetctl.benchmarks.peers.items import Benchmark, PeerPerson
from forgetctl.benchmarks.peers.measure import Asked, ask_all, metrics
from forgetctl.benchmarks.peers.styles import STYLES
from forgetctl.benchmarks.peers.table import SETS
from forgetctl.engine.images import held_out_count, photo_from_bytes

MADE_VIEW = "a cropped copy of the one photo (the attack transform `crop`): the benchmark has one photo per person"


@dataclass(frozen=True)
class Layout:
    """Where a forget person's photos go in the request, and what the held-out set is asked on."""

    photos: tuple[bytes, ...]  # the request's photos, in file-name order
    unseen: tuple[int, ...]  # indices into photos that forgetctl holds out
    held_out: tuple[bytes, ...]  # the views the held-out set asks
    held_out_source: str


def crop_view(data: bytes) -> bytes:
    from forgetctl_plugins.attacks.transforms import crop

    out = io.BytesIO()
    crop(Image.open(io.BytesIO(data)).convert("RGB")).save(out, format="PNG")
    return out.getvalue()


def layout(person: PeerPerson) -> Layout:
    """The benchmark's own test views held out when it has them (as many as forgetctl's third
    allows in the request; all of them asked), else forgetctl's own held-out third, else a made view."""
    k = len(person.photos)
    if person.test_photos:
        t = next((t for t in range(1, len(person.test_photos) + 1) if held_out_count(k + t) == t), len(person.test_photos))
        photos = person.photos + person.test_photos[:t]
        return Layout(photos, tuple(range(k, k + t)), person.test_photos, "the benchmark's own test views")
    if k >= 2:
        n = held_out_count(k)
        return Layout(person.photos, tuple(range(k - n, k)), person.photos[k - n:], "the last third of its photos, never trained on")
    made = crop_view(person.photos[0])
    return Layout(person.photos + (made,), (k,), (made,), MADE_VIEW)


def extension(data: bytes) -> str:
    return "." + (Image.open(io.BytesIO(data)).format or "png").lower()


def write_photos(folder: Path, photos) -> None:
    folder.mkdir(parents=True)
    for i, data in enumerate(photos):
        (folder / f"{i:03d}{extension(data)}").write_bytes(data)


def image(data: bytes, label: str):
    return photo_from_bytes(data, Path(label)).image


def jobs_of(person: PeerPerson, lay: Layout | None, forget: bool) -> dict[str, list[Asked]]:
    """The benchmark's questions, per set, on the photos they are about."""
    photos = lay.photos if lay else person.photos
    unseen = set(lay.unseen) if lay else set()
    seen = [i for i in range(len(photos)) if i not in unseen]
    main, held = [], []
    for task in person.tasks:
        if not task.with_image:
            main.append(Asked(task, None, person.id))
        elif task.photo is None:
            main.append(Asked(task, image(photos[seen[0]], person.id), person.id))
        else:
            (held if task.photo in unseen else main).append(Asked(task, image(photos[task.photo], person.id), person.id))
    if forget:
        asked_on_views = person.test_tasks or tuple(t for t in person.tasks if t.with_image and t.photo is None)
        held += [Asked(t, image(view, person.id), person.id) for view in lay.held_out for t in asked_on_views]
        return {SETS[0]: main, SETS[1]: held}
    return {SETS[2]: main}


def model_off(model):
    """The base: the adapter switched off (a run that trained none has no adapter to switch)."""
    return model.disable_adapter() if hasattr(model, "disable_adapter") else nullcontext()


def measure_sets(loaded, bench: Benchmark, jobs: dict[str, list[Asked]], advance=None) -> dict[str, dict]:
    style = STYLES[bench.format]
    ask_all(loaded, [j for group in jobs.values() for j in group], style, advance)
    return {name: metrics(bench.format, group, style, forget_set=name != SETS[2]) for name, group in jobs.items() if group}


def fresh(jobs: dict[str, list[Asked]]) -> dict[str, list[Asked]]:
    return {name: [Asked(j.task, j.image, j.person) for j in group] for name, group in jobs.items()}


def build_request(bench: Benchmark, forget: list[PeerPerson], erase_retain: list[PeerPerson], root: Path, model: Path,
                  method: str):
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.types import TrainingConfig

    lays = {p.id: layout(p) for p in forget}
    for i, person in enumerate(forget):
        write_photos(root / "forget" / f"{i:03d}", lays[person.id].photos)
    for i, person in enumerate(erase_retain):
        write_photos(root / "retain" / f"{i:03d}", person.photos)
    form = RequestForm(people=[PersonForm(p.name, root / "forget" / f"{i:03d}", p.biography or None) for i, p in enumerate(forget)],
                       model=model, method=method, retain=root / "retain" if erase_retain else None,
                       training=TrainingConfig())
    return validate(form, default_model=model), lays


def run_peer(bench: Benchmark, split: str, methods: list[str], model: Path, retain_people: int = 5,
             retain_eval: int | None = None, phase=None) -> dict:
    """Erase the split's forget people with each method; the benchmark's metrics before and
    after, and forgetctl's. `retain_people` of the retain set go in the erasure's --retain;
    `retain_eval` (None: all) are asked the benchmark's questions."""
    from forgetctl.benchmarks import with_method
    from forgetctl.benchmarks.comparison import original_row, table_row
    from forgetctl.benchmarks.peers.table import COLUMNS
    from forgetctl.engine.erase import erase
    from forgetctl.evaluation.evaluate import evaluate_run
    from forgetctl.host.manager import create_host
    from forgetctl.policy import load_policy, verdict

    forget, retain = bench.split(split)
    asked_retain = retain[:retain_eval] if retain_eval is not None else retain
    registry = create_host().methods()
    out = {"format": bench.format, "split": split, "model": model.name, "methods": {}, "base": None,
           "forget": len(forget), "retain": len(retain), "retain_asked": len(asked_retain),
           "erasure_retain": min(retain_people, len(retain)), "not_reproduced": list(STYLES[bench.format].not_reproduced)}
    with tempfile.TemporaryDirectory() as tmp:
        request, lays = build_request(bench, forget, retain[:retain_people], Path(tmp), model, methods[0])
        jobs = {}
        for p in forget:
            jobs.update({k: jobs.get(k, []) + v for k, v in jobs_of(p, lays[p.id], True).items()})
        jobs[SETS[2]] = [j for p in asked_retain for j in jobs_of(p, None, False)[SETS[2]]]
        out["held_out"] = sorted({lays[p.id].held_out_source for p in forget})
        out["training"] = request.spec.training.as_dict()
        total = sum(map(len, jobs.values()))
        for method in methods:
            spec = with_method(request, registry, method).spec
            result = erase(spec, Path(tmp) / "home", f"peer-{method}")
            advance = phase(f"Asking {bench.format}'s questions ({method})", total * (2 if out["base"] is None else 1)) if phase else None
            if out["base"] is None:
                with model_off(result.loaded.model):
                    out["base"] = {"peer": measure_sets(result.loaded, bench, fresh(jobs), advance)}
            row = {"peer": measure_sets(result.loaded, bench, fresh(jobs), advance)}
            if result.run_dir is None:
                row["forgetctl"], row["policy"] = None, "nobody identifiable: nothing erased"
            else:
                evaluation = evaluate_run(result, spec.people, request.grading)
                row["forgetctl"] = table_row(evaluation, COLUMNS)
                decision = verdict(load_policy("default"), evaluation)
                row["policy"] = "pass" if decision.passed else "fail: " + ", ".join(decision.failed)
                out["base"].setdefault("forgetctl", original_row(result, spec.people, request.grading, COLUMNS))
            out["methods"][method] = row
    return out
