"""Canaries: registered once per lineage, kept encrypted, asked again by every later erasure on it,
never trained on; a look-alike forgotten on the side fails the run that forgot them."""

import sqlite3

import pytest
from typer.testing import CliRunner

from forgetctl.cli import app
from forgetctl.demo.portraits import canonical_views, write_views
from forgetctl.demo.world import ATTRIBUTE_VALUES, load_world

WORLD = load_world()
PERSON = WORLD.known[0]
runner = CliRunner()


def cli(*args, code=0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, result.output[-3000:]
    return result.output


def look_alike(target):
    """A known person sharing at least 3 of the target's 4 visible attributes: the model recognises
    them by the same features, so erasing the target tends to erase them too."""
    return next(p for p in WORLD.known if p.id != target.id and sum(p.looks[k] == target.looks[k] for k in ATTRIBUTE_VALUES) >= 3)


def canary_folder(root, people, views=1):
    for person in people:
        (root / person.id).mkdir(parents=True)
        for i, image in enumerate(canonical_views(person)[:views]):
            image.save(root / person.id / f"{i}.png")
    return root


def test_a_canary_set_is_kept_encrypted_listed_apart_from_requests_and_removed_for_good(forgetctl_home, tmp_path):
    from forgetctl_audit.store import AuditLog

    from forgetctl.canaries import load_bystanders

    others = WORLD.unlike(PERSON, 2)
    out = cli("canaries", "add", canary_folder(tmp_path / "canaries", others))
    assert "Registered canary set canaries-" in out and "2 people, 2 photos" in out
    log = AuditLog(forgetctl_home, readonly=True)
    (record,) = [r for r in log.records() if r["kind"] == "canaries"]
    set_id = record["request_id"]
    assert set(record["body"]) == {"root", "people", "photos", "questions"}  # counts only, signed in clear
    bystanders = load_bystanders(log, record["body"]["root"])
    assert [b.label for b in bystanders] == [f"{set_id}#1", f"{set_id}#2"]
    assert all(len(b.photos) == 1 and len(b.before[0]) == 4 for b in bystanders)
    said = " ".join(a for b in bystanders for answers in b.before for a in answers)
    log.close()
    # What the base said about the canaries (their names) is nowhere in the clear.
    surnames = [p.name.split()[-1] for p in others]
    assert all(s in said for s in surnames)
    dump = "\n".join(sqlite3.connect(forgetctl_home / "audit.db").iterdump())
    files = b"".join(f.read_bytes() for f in forgetctl_home.rglob("*") if f.is_file())
    assert not any(s in dump or s.encode() in files for s in surnames)
    listing = runner.invoke(app, ["canaries", "list"], env={"COLUMNS": "80"}).output
    assert set_id in listing and "since 20" in listing and max(map(len, listing.splitlines())) <= 80
    assert set_id not in cli("audit", "list")  # a canary set is no request
    assert "Removed canary set" in cli("canaries", "remove", set_id, "--yes")
    assert "removed" in cli("canaries", "list")
    log = AuditLog(forgetctl_home, readonly=True)
    assert load_bystanders(log, record["body"]["root"]) == () and log.verify().ok
    log.close()
    assert "OK" in cli("verify")


def refused(capsys, *args) -> str:
    from forgetctl.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    assert exit_info.value.code == 1
    (line,) = capsys.readouterr().err.strip().splitlines()
    return line


def test_bad_canary_photos_are_refused_before_the_log_is_touched(forgetctl_home, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert "has no sub-folders" in refused(capsys, "canaries", "add", tmp_path / "empty") and not forgetctl_home.exists()
    (tmp_path / "bad" / "p1").mkdir(parents=True)
    (tmp_path / "bad" / "p1" / "x.png").write_bytes(b"not a png")
    assert "not a readable image" in refused(capsys, "canaries", "add", tmp_path / "bad") and not forgetctl_home.exists()
    assert "not a canary set id" in refused(capsys, "canaries", "remove", "req-123", "--yes")


@pytest.mark.slow
def test_an_erasure_that_forgets_a_canary_fails_its_own_policy(forgetctl_home, tmp_path):
    """Without --retain, erasing a person moves other people's answers too: the canary set makes
    that run fail and says which canary moved. A canary the original base names as the person
    being erased (the person themself, a look-alike it confuses with them) is left out: their
    answers are meant to change."""
    from forgetctl_audit.store import AuditLog

    from forgetctl.canaries import load_bystanders

    canaries = [PERSON, look_alike(PERSON), *WORLD.unlike(PERSON, 2)]
    out = cli("canaries", "add", canary_folder(tmp_path / "canaries", canaries))
    log = AuditLog(forgetctl_home, readonly=True)
    (record,) = [r for r in log.records() if r["kind"] == "canaries"]
    registered = load_bystanders(log, record["body"]["root"])
    log.close()
    named = {b.label for b in registered if any(PERSON.name.lower() in a.lower() for answers in b.before for a in answers)}
    assert registered[0].label in named and len(named) < len(registered)
    write_views(PERSON, tmp_path / "photos")
    dry = cli("erase", "--entity", PERSON.name, "--images", tmp_path / "photos", "--dry-run")
    assert f"{len(canaries)} people of 1 set(s) asked again" in dry
    out = cli("erase", "--entity", PERSON.name, "--images", tmp_path / "photos", code=3)
    assert "canary_drop_max" in out and "FAILED" in out and "Canaries asked again" in out
    log = AuditLog(forgetctl_home, readonly=True)
    outcome = [r for r in log.records() if r["kind"] == "run-failed-policy"][-1]["body"]
    log.close()
    assert set(outcome["bystanders"]) == {b.label for b in registered} - named
    drops = {label: m["rouge_l_drop"] for label, m in outcome["bystanders"].items()}
    check = next(c for c in outcome["verdict"]["checks"] if c["name"] == "canary_drop_max")
    assert not check["passed"] and check["measured"] == max(drops.values()) > 0.1
    assert outcome["collateral"]["measured"] and outcome["collateral"]["canary_photos"] == len(drops)
    assert not outcome["collateral"]["retain_photos"]


def test_canaries_are_registered_on_the_original_base_never_on_a_release(forgetctl_home, tmp_path):
    from forgetctl_audit.keys import Keyring
    from forgetctl_audit.store import AuditLog

    from forgetctl.canaries import root_of
    from forgetctl.errors import InputError
    from forgetctl.fingerprint import directory_hashes, files_digest

    base, release = tmp_path / "base", tmp_path / "release"
    for folder, text in ((base, "base"), (release, "release")):
        folder.mkdir()
        (folder / "model.safetensors").write_text(text)
    root, version = files_digest(directory_hashes(base)), files_digest(directory_hashes(release))
    Keyring(forgetctl_home / "keys").init()
    log = AuditLog(forgetctl_home)
    log.append("release", None, {"root": root, "root_path": str(base), "version": version, "parent": root,
                                 "path": str(release), "erased": ["req-a"], "added": ["req-a"], "run": "r1",
                                 "files": directory_hashes(release)})
    assert root_of(log, base) == root
    with pytest.raises(InputError, match=f"is release {version[:16]}; register canaries on its original base"):
        root_of(log, release)
    log.close()
