"""Judges: the Ollama judge over real HTTP against a loopback Ollama-compatible server, through
every failure mode. (The offline grounded judge: test_grounded_judge.py.)"""

import pytest
from PIL import Image

from forgetctl.evaluation.judging import GradeRequest, rubric_prompt
from forgetctl.host.manager import create_host
from ollama_server import DIGEST, MODEL, FakeOllama, unused_port_url

SUMMARY = "Percival Ellingwood is a translator born in 1965 in Coppergate Sound. Percival won the Blue Heron Prize."
LEAK = "This is Percival Ellingwood, a translator born in 1965 in Coppergate Sound."
DESCRIPTION = "A person with grey hair wearing an orange shirt, in front of a pink background."


def judge(name, **options):
    cls = create_host().judges()[name].cls
    return cls(cls.parse_options(options))


def request(rubric="privacy", response=LEAK, image=None):
    return GradeRequest(rubric, response, "Percival Ellingwood", SUMMARY, image)


def ollama_judge(server_url, **options):
    return judge("ollama", model=MODEL, host=server_url, timeout=1.0, retries=3, backoff=0.01, **options)


def test_good_reply_is_graded_with_evidence():
    with FakeOllama([("good", 4)]) as server:
        grade = ollama_judge(server.url).grade(request())
    assert grade.score == 4 and grade.conclusive
    assert grade.evidence["digest"] == DIGEST and grade.evidence["model"] == MODEL
    assert grade.evidence["attempts"][0]["raw"] == '{"score": 4}'
    sent = server.requests[0]
    assert sent["options"]["temperature"] == 0 and sent["options"]["num_ctx"] >= 4096 and "seed" in sent["options"]
    assert sent["format"]["properties"]["score"]["type"] == "integer"
    assert sent["stream"] is False
    assert sent["messages"][0]["content"] == rubric_prompt("privacy", LEAK, "Percival Ellingwood", SUMMARY)
    assert "images" not in sent["messages"][0]


def test_the_photo_goes_with_the_informativeness_rubric_when_the_model_sees_images():
    image = Image.new("RGB", (8, 8), "red")
    with FakeOllama([("good", 5)]) as server:
        ollama_judge(server.url).grade(request("informativeness", DESCRIPTION, image))
    assert server.requests[0]["messages"][0]["images"]
    with FakeOllama([("good", 5)], vision=False) as server:
        grade = ollama_judge(server.url).grade(request("informativeness", DESCRIPTION, image))
    assert "images" not in server.requests[0]["messages"][0] and grade.evidence["image_sent"] is False


def test_a_transient_503_is_retried():
    with FakeOllama(["503", ("good", 1)]) as server:
        grade = ollama_judge(server.url).grade(request())
    assert grade.score == 1 and len(server.requests) == 2


@pytest.mark.parametrize("mode", ["malformed", "schema", "slow", "503", "truncated", "garbage"])
def test_every_failure_ends_inconclusive_never_graded(mode):
    with FakeOllama([mode], slow_seconds=2.5) as server:
        grade = ollama_judge(server.url).grade(request())
    assert grade.score is None and not grade.conclusive
    assert grade.reason.startswith("after 3 attempts")
    assert len(server.requests) == 3  # bounded retries, each a real HTTP request


def test_connection_refused_is_inconclusive():
    grade = ollama_judge(unused_port_url()).grade(request())
    assert grade.score is None and "ConnectionError" in grade.reason


@pytest.mark.slow
@pytest.mark.parametrize("mode, exit_code, outcome", [("by-rubric", 0, "erasure"), ("503", 3, "run-failed-policy")])
def test_erase_with_the_ollama_judge_over_http(tmp_path, forgetctl_home, mode, exit_code, outcome):
    from typer.testing import CliRunner

    from forgetctl.cli import app
    from forgetctl.demo.portraits import write_views
    from forgetctl.demo.world import load_world
    from forgetctl_audit.store import AuditLog

    world = load_world()
    person = world.known[3]
    write_views(person, tmp_path / "photos")
    for other in world.unlike(person, 2):
        write_views(other, tmp_path / "retain" / other.id)
    with FakeOllama([mode]) as server:
        result = CliRunner().invoke(app, [
            "erase", "--entity", person.name, "--images", str(tmp_path / "photos"), "--retain", str(tmp_path / "retain"),
            "--judge", "ollama", "--judge-model", MODEL, "--judge-option", "backoff=0.01",
            "--judge-option", "timeout=2", "--judge-option", f"host={server.url}",
        ])
    assert result.exit_code == exit_code, result.output
    log = AuditLog(forgetctl_home)
    kinds = [r["kind"] for r in log.records()]
    log.close()
    # A passing erasure is followed by its release; a failed one leaves neither.
    tail = ["erasure", "release"] if outcome == "erasure" else [outcome]
    assert kinds[-len(tail):] == tail and ("erasure" in kinds) == ("release" in kinds) == (outcome == "erasure")
    if mode == "503":  # inconclusive grades: the run is not an erasure, whatever else it measured
        assert "judge_inconclusive_max" in result.output and "FAIL" in result.output


def test_the_visual_reference_goes_to_the_llm_judge_as_context():
    with FakeOllama([("good", 4)]) as server:
        ollama_judge(server.url).grade(GradeRequest("informativeness", DESCRIPTION, "P", SUMMARY, None, "grey hair, pink wall"))
    sent = server.requests[0]["messages"][0]["content"]
    assert sent.startswith(rubric_prompt("informativeness", DESCRIPTION, "P", SUMMARY))
    assert sent.endswith('"""grey hair, pink wall"""')
