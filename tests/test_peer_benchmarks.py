"""The field's benchmarks read as distributed and scored their way: the four importers on
fixtures in each schema (tests/peer_fixtures.py), the scoring rules on tiny cases (BLEU and ROUGE
against values NLTK 3.9 and rouge_score 0.1.2 give for the same pairs), refusals, and `bench peer`
end to end on the FIUBench and MLLMU-Bench fixtures."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import peer_fixtures as fixtures
from forgetctl.benchmarks.peers import read_benchmark
from forgetctl.benchmarks.peers.items import Task
from forgetctl.benchmarks.peers.measure import Asked, metrics
from forgetctl.benchmarks.peers.run import layout
from forgetctl.benchmarks.peers.styles import STYLES, prompt
from forgetctl.cli import main
from forgetctl.engine.images import held_out_count
from forgetctl.errors import InputError
from forgetctl.evaluation.bleu import sentence_bleu
from forgetctl.evaluation.choices import closest_option, cloze_hit, contraharmonic, harmonic, keyword_share, option_letter
from forgetctl.evaluation.rouge import rouge_l, rouge_n

# (reference, candidate, NLTK sentence_bleu with method1, rouge_score's rouge1 / rouge2 / rougeL F without stemming)
REFERENCE_VALUES = [
    ("the cat sat on the mat", "the cat sat on a mat", 0.537285, 0.833333, 0.6, 0.833333),
    ("she was born in 1960 in a small town", "born in 1960", 0.076105, 0.5, 0.4, 0.5),
    ("a b c d e", "x y z", 0.0, 0.0, 0.0, 0.0),
    ("one two three four five six", "one two three four five six", 1.0, 1.0, 1.0, 1.0),
    ("alpha beta", "alpha", 0.065419, 0.666667, 0.0, 0.666667),
]


@pytest.mark.parametrize("reference,candidate,bleu,r1,r2,rl", REFERENCE_VALUES)
def test_bleu_and_rouge_match_the_libraries_the_benchmarks_use(reference, candidate, bleu, r1, r2, rl):
    assert sentence_bleu(reference, candidate) == pytest.approx(bleu, abs=1e-6)
    assert rouge_n(candidate, reference, 1) == pytest.approx(r1, abs=1e-6)
    assert rouge_n(candidate, reference, 2) == pytest.approx(r2, abs=1e-6)
    assert rouge_l(candidate, reference) == pytest.approx(rl, abs=1e-6)


def test_choices_cloze_and_keywords_are_read_the_benchmarks_way():
    options = {"A": "Oslo", "B": "Lima", "C": "Cairo", "D": "Quito"}
    assert option_letter("B", options) == "B"
    assert option_letter("ASSISTANT: c. Cairo", options) == "C"  # MLLMU: first character after the marker
    assert option_letter("The answer is B", options) is None  # "T" is no option: wrong, as MLLMU counts it
    assert closest_option("I think it is Lima", options) == "B"  # UMU: the most similar option's text
    assert cloze_hit("She was born in LIMA, I believe", "Lima") and not cloze_hit("born in Oslo", "Lima")
    assert keyword_share("Born in Lima in 1960", ["lima", "1960", "Peru"]) == pytest.approx(2 / 3)
    assert keyword_share("anything", []) is None
    assert contraharmonic(1.0, 0.0) == 1.0 and harmonic(1.0, 0.0) == 0.0  # one modality remembering counts on forget
    assert contraharmonic(0.5, 0.5) == harmonic(0.5, 0.5) == 0.5


def test_umu_metrics_pair_the_twins_of_a_question():
    style = STYLES["umu"]
    choice = dict(kind="choice", question="q", answer="B", options=(("A", "Oslo"), ("B", "Lima")))
    jobs = [Asked(Task(**choice, with_image=False, pair="Classify:0"), None, "p", reply="Lima"),
            Asked(Task(**choice, with_image=True, pair="Classify:0"), object(), "p", reply="Oslo"),
            Asked(Task("open", "q", "born in lima", False, pair="Generation:0"), None, "p", reply="born in lima"),
            Asked(Task("open", "q", "born in lima", True, pair="Generation:0"), object(), "p", reply="no idea")]
    forget, retain = metrics("umu", jobs, style, forget_set=True), metrics("umu", jobs, style, forget_set=False)
    assert forget["umu.acc_uni"] == 1.0 and forget["umu.acc_multi"] == 0.0 and forget["umu.acc_all"] == 0.0
    assert forget["umu.rl_all"] == 1.0 and retain["umu.rl_all"] == 0.0  # contraharmonic vs harmonic of 1 and 0
    assert forget["umu.cloze_all"] is None  # no cloze twins: not measured, not 0


def test_prompts_are_the_benchmarks_own():
    task = Task("choice", "Where?", "B", options=(("A", "Oslo"), ("B", "Lima")))
    assert prompt(STYLES["mllmu"], task).endswith("A: Oslo\nB: Lima\nAnswer with the option's letter from the given choices directly.")
    assert prompt(STYLES["umu"], task) == "Where?\nSelect answer in ['Oslo', 'Lima']"


WRITERS = {"fiubench": fixtures.write_fiubench, "mllmu": fixtures.write_mllmu, "umu": fixtures.write_umu,
           "clear": fixtures.write_clear}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """Each benchmark's fixture folder, drawn once for the module's read-only tests."""
    root = tmp_path_factory.mktemp("peers")
    return {fmt: write(root / fmt) for fmt, write in WRITERS.items()}


@pytest.mark.parametrize("fmt,split", [("fiubench", "forget5"), ("mllmu", "forget_5"), ("umu", "forget_5"), ("clear", "forget01")])
def test_each_importer_reads_its_schema(built, fmt, split):
    world, forget, retain = fixtures.cast()
    bench = read_benchmark(fmt, built[fmt])
    gone, kept = bench.split(split)
    assert [p.name for p in gone] == [p.name for p in forget]
    assert [p.name for p in kept] == [p.name for p in retain]
    person = gone[0]
    assert person.photos and all(isinstance(b, bytes) for b in person.photos)
    assert {t.kind for t in person.tasks} >= {"open"}
    assert person.name in person.biography or person.biography  # the profile forgetctl's leak detector reads
    with pytest.raises(InputError, match="no split 'forget_99'"):
        bench.split("forget_99")


def test_importers_keep_what_each_benchmark_has(built):
    fiu = read_benchmark("fiubench", built["fiubench"]).split("forget5")[0][0]
    assert fiu.tasks[1].paraphrased_answer and len(fiu.tasks[1].perturbed) == 2 and fiu.tasks[1].keywords
    mllmu = read_benchmark("mllmu", built["mllmu"]).split("forget_5")[0][0]
    assert len(mllmu.test_photos) == 2 and mllmu.test_tasks  # Test_Set's transformed views
    assert {(t.kind, t.with_image) for t in mllmu.tasks} >= {("choice", True), ("choice", False), ("cloze", True), ("open", False)}
    umu = read_benchmark("umu", built["umu"]).split("forget_5")[0][0]
    assert {t.pair for t in umu.tasks} == {"Classify:0", "Cloze:0", "Generation:0"} and umu.tasks[0].answer == "B"
    clear = read_benchmark("clear", built["clear"]).split("forget01")[0][0]
    assert len(clear.photos) == 6 and [t.photo for t in clear.tasks if t.with_image] == list(range(6))
    assert any(not t.with_image and t.perturbed for t in clear.tasks)  # its text question, found by the name


def test_held_out_views_are_real_or_made_and_said_so(built):
    fiu = read_benchmark("fiubench", built["fiubench"]).split("forget5")[0][0]
    made = layout(fiu)
    assert len(made.photos) == 2 and made.unseen == (1,) and "cropped copy" in made.held_out_source
    assert held_out_count(len(made.photos)) == len(made.unseen)  # forgetctl's own split holds the made view out
    mllmu = read_benchmark("mllmu", built["mllmu"]).split("forget_5")[0][0]
    own = layout(mllmu)
    assert own.held_out == mllmu.test_photos and held_out_count(len(own.photos)) == len(own.unseen)
    clear = read_benchmark("clear", built["clear"]).split("forget01")[0][0]
    assert layout(clear).unseen == (4, 5)  # several photos: forgetctl's last third


@pytest.mark.parametrize("fmt,make,why", [
    ("fiubench", lambda d: d, "is not FIUBench"),
    ("mllmu", lambda d: d, "is not MLLMU-Bench"),
    ("umu", lambda d: (d / "forget_5").mkdir(), "is not UMU-Bench"),
    ("clear", lambda d: (d / "x.txt").write_text("x"), "is not CLEAR"),
])
def test_a_folder_not_in_the_named_format_is_refused_with_one_line(tmp_path, capsys, fmt, make, why):
    make(tmp_path)
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "peer", "--format", fmt, "--data", str(tmp_path), "--split", "forget_5"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 1 and why in err and len(err.splitlines()) == 1


def test_a_snapshot_of_split_named_files_reads_like_split_folders(built, tmp_path):
    """Hub snapshots also hold `data/forget_5-00000-of-00001.parquet` rather than a folder per split."""
    flat = tmp_path / "snapshot" / "data"
    flat.mkdir(parents=True)
    for split in ("forget_5", "retain_95", "Test_Set"):
        (flat / f"{split}-00000-of-00001.parquet").write_bytes((built["mllmu"] / split / "train-00000-of-00001.parquet").read_bytes())
    folders = read_benchmark("mllmu", built["mllmu"])
    snapshot = read_benchmark("mllmu", tmp_path / "snapshot")
    assert snapshot.splits == folders.splits and snapshot.people.keys() == folders.people.keys()
    assert snapshot.people[snapshot.splits["forget_5"][0][0]].test_photos  # Test_Set found by its file name


def test_a_damaged_file_and_an_unknown_method_are_refused_before_any_model(tmp_path, capsys):
    root = fixtures.write_fiubench(tmp_path / "f")
    with pytest.raises(SystemExit):
        main(["bench", "peer", "--format", "fiubench", "--data", str(root), "--split", "forget5", "--method", "pugb"])
    assert "did you mean pubg?" in capsys.readouterr().err
    (root / "dataset" / "full.json").write_text("[{")
    with pytest.raises(SystemExit):
        main(["bench", "peer", "--format", "fiubench", "--data", str(root), "--split", "forget5"])
    assert "not valid JSON" in capsys.readouterr().err


def test_without_pyarrow_mllmu_says_which_extra_to_install(built):
    root = built["mllmu"]
    code = ("import atexit, sys; sys.modules['pyarrow'] = None; sys.modules['pyarrow.parquet'] = None\n"
            "atexit.register(lambda: print('torch loaded' if 'torch' in sys.modules else 'no torch'))\n"
            "from forgetctl.cli import main\n"
            f"main(['bench', 'peer', '--format', 'mllmu', '--data', {str(root)!r}, '--split', 'forget_5'])")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 1
    assert "pip install 'forgetctl[bench]'" in done.stderr and "Traceback" not in done.stderr
    assert done.stdout.strip() == "no torch"  # refused before anything heavy loads


@pytest.mark.slow
@pytest.mark.parametrize("fmt,writer,split,names,retain_held", [
    ("fiubench", fixtures.write_fiubench, "forget5", ("ROUGE-L", "Prob.", "Truth Ratio", "EM"), True),
    # MLLMU's retain questions include phrasings and text-only questions forgetctl's retain check
    # does not ask: there the benchmark sees damage forgetctl's own retain drop does not (docs/peers).
    ("mllmu", fixtures.write_mllmu, "forget_5", ("Cls. Acc (image)", "Cls. Acc (text)", "Cloze Acc", "ROUGE-1", "BLEU"), False)])
def test_bench_peer_writes_the_benchmarks_table_beside_forgetctls(tmp_path, fmt, writer, split, names, retain_held):
    root = writer(tmp_path / fmt)
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "peer", "--format", fmt, "--data", str(root), "--split", split, "--out", str(tmp_path / "out")])
    assert exit_info.value.code == 0
    table = (tmp_path / "out" / f"{fmt}-{split}.md").read_text()
    result = json.loads((tmp_path / "out" / f"{fmt}-{split}.json").read_text())
    for name in names:
        assert f"| {name} | forget |" in table and f"| {name} | retain |" in table
    assert "| leaks (trained-on photos) |" in table and "| default policy | – | pass |" in table
    assert f"--format {fmt}" in table and "Not reproduced here:" in table
    forget_before, forget_after = result["base"]["peer"]["forget"], result["methods"]["pubg"]["peer"]["forget"]
    retain_before, retain_after = result["base"]["peer"]["retain"], result["methods"]["pubg"]["peer"]["retain"]
    rouge = f"{fmt}.rouge_l"
    assert forget_after[rouge] < forget_before[rouge]  # the benchmark's own forget metric moved
    assert (retain_after[rouge] == pytest.approx(retain_before[rouge], abs=0.05)) == retain_held
    assert result["methods"]["pubg"]["forgetctl"]["seen.leak_rate"] == 0
