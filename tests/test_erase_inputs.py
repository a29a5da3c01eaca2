"""Bad input to `forgetctl erase`: one red line, exit 1, and nothing left under runs/."""

import pytest
from PIL import Image

from forgetctl.cli import main
from forgetctl.demo.portraits import write_views
from forgetctl.demo.world import load_world
from forgetctl.engine.images import read_photos, split_views
from forgetctl.errors import InputError


@pytest.fixture
def photos(tmp_path):
    folder = tmp_path / "photos"
    write_views(load_world().known[0], folder)
    return folder


def run_cli(args, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(args)
    err = capsys.readouterr().err.strip()
    return exit_info.value.code, err


def assert_clean_failure(code, err, forgetctl_home, expected):
    assert code == 1
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error:") and expected in err, err
    runs = forgetctl_home / "runs"
    assert not runs.exists() or not any(runs.iterdir())


def test_empty_folder(tmp_path, capsys, forgetctl_home):
    (tmp_path / "empty").mkdir()
    code, err = run_cli(["erase", "--entity", "X", "--images", str(tmp_path / "empty")], capsys)
    assert_clean_failure(code, err, forgetctl_home, "is empty")


def test_text_file_named_jpg_is_named(photos, capsys, forgetctl_home):
    (photos / "notes.jpg").write_text("this is not a photo")
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos)], capsys)
    assert_clean_failure(code, err, forgetctl_home, "notes.jpg: not a readable image")


def test_truncated_png_is_named(photos, capsys, forgetctl_home):
    data = (photos / "p001_view0.png").read_bytes()
    (photos / "p001_view0.png").write_bytes(data[: len(data) // 2])
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos)], capsys)
    assert_clean_failure(code, err, forgetctl_home, "p001_view0.png")


def test_model_folder_that_is_not_llava(photos, tmp_path, capsys, forgetctl_home):
    (tmp_path / "bert").mkdir()
    (tmp_path / "bert" / "config.json").write_text('{"model_type": "bert"}')
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos), "--model", str(tmp_path / "bert")], capsys)
    assert_clean_failure(code, err, forgetctl_home, "'bert' model")


def test_unknown_method(photos, capsys, forgetctl_home):
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos), "--method", "forgetall"], capsys)
    assert_clean_failure(code, err, forgetctl_home, "unknown method 'forgetall'; choose one of ga, npo, pubg")
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos), "--method", "pugb"], capsys)
    assert_clean_failure(code, err, forgetctl_home, "unknown method 'pugb'; did you mean pubg?")


def test_bad_method_option(photos, capsys, forgetctl_home):
    code, err = run_cli(
        ["erase", "--entity", "X", "--images", str(photos), "--method", "vgid", "--method-option", "noise=pink"], capsys
    )
    assert_clean_failure(code, err, forgetctl_home, "bad --method-option for vgid: noise: Input should be 'uniform' or 'gaussian'")


def test_decompression_bomb_is_refused(tmp_path):
    folder = tmp_path / "bomb"
    folder.mkdir()
    Image.new("1", (9000, 9000)).save(folder / "huge.png")  # 81 Mpx, tiny on disk
    with pytest.raises(InputError, match="decompression bomb"):
        read_photos(folder)


def test_exif_orientation_is_applied(tmp_path):
    folder = tmp_path / "exif"
    folder.mkdir()
    img = Image.new("RGB", (80, 40), "red")
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees on display
    img.save(folder / "rotated.jpg", exif=exif)
    assert read_photos(folder)[0].image.size == (40, 80)


def test_split_is_deterministic_and_holds_out_a_third(photos):
    seen, unseen = split_views(read_photos(photos))
    assert [p.path.name for p in unseen] == ["p001_view4.png", "p001_view5.png"]
    assert len(seen) == 4


def test_requests_file_names_people_relative_to_itself(tmp_path):
    from forgetctl.cli.erase import read_requests

    (tmp_path / "jane.txt").write_text("Jane is a pilot.")
    (tmp_path / "people.jsonl").write_text(
        '{"entity": "Jane Roe", "images": "jane", "profile": "jane.txt"}\n\n{"entity": "John Roe", "images": "john"}\n'
    )
    jane, john = read_requests(tmp_path / "people.jsonl")
    assert (jane.name, jane.images, jane.profile) == ("Jane Roe", tmp_path / "jane", "Jane is a pilot.")
    assert (john.name, john.profile) == ("John Roe", None)
    (tmp_path / "bad.jsonl").write_text('{"who": "x"}\n')
    with pytest.raises(InputError, match="bad.jsonl:1"):
        read_requests(tmp_path / "bad.jsonl")


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--grounds", "z"], "--grounds must be one of a, b, c, d, e, f"),
        (["--method", "npo", "--method-option", "beta=abc"], "bad --method-option for npo: beta: Input should be a valid number"),
        (["--method", "npo", "--method-option", "beta=-1"], "beta: Input should be greater than 0"),
        (["--method", "vgid", "--method-option", "bogus=1"], "bogus: Extra inputs are not permitted"),
        (["--method", "vgid", "--method-option", "answer_only=false"], "answer_only=false needs in_context=false"),
        (["--policy", "lenientest"], "unknown policy 'lenientest'"),
        (["--policy", "strikt"], "unknown policy 'strikt'; did you mean strict?"),
        (["--judge", "olama"], "unknown judge 'olama'; did you mean ollama?"),
        (["--judge", "oracle"], "unknown judge 'oracle'"),
        (["--judge", "ollama", "--judge-option", "temperature=1"], "bad --judge-option for ollama: temperature: Extra inputs"),
        (["--judge", "ollama", "--judge-option", "timeout=0"], "bad --judge-option for ollama: timeout: Input should be greater than 0"),
        (["--judge", "grounded", "--judge-option", "timeout=5"], "bad --judge-option for grounded: timeout: Extra inputs"),
        (["--lora-targets", "vision"], "--lora-targets must be one of language, language+projector"),
        (["--sam-rho", "0.05", "--grad-accum", "2"], "--sam-rho works with --grad-accum 1"),
        (["--lr", "0"], "--lr must be a number above 0, not 0.0"),
    ],
)
def test_bad_request_options_leave_nothing_under_forgetctl_home(photos, capsys, forgetctl_home, options, expected):
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos), *options], capsys)
    assert_clean_failure(code, err, forgetctl_home, expected)
    assert not forgetctl_home.exists() or not any(forgetctl_home.iterdir())  # no keys, no database, no run


def test_an_empty_entity_is_refused_before_any_work(photos, capsys, forgetctl_home):
    code, err = run_cli(["erase", "--entity", "  ", "--images", str(photos)], capsys)
    assert_clean_failure(code, err, forgetctl_home, "--entity is empty")
    assert not forgetctl_home.exists() or not any(forgetctl_home.iterdir())


def test_a_photo_of_the_person_in_the_retain_folder_is_refused(photos, tmp_path, capsys, forgetctl_home):
    import shutil

    (tmp_path / "retain" / "other").mkdir(parents=True)
    shutil.copy(photos / "p001_view0.png", tmp_path / "retain" / "other" / "copy.png")
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos), "--retain", str(tmp_path / "retain")], capsys)
    assert_clean_failure(code, err, forgetctl_home, "copy.png in --retain is also a photo of a person being erased")


# --- bounded, confined inputs: what an attacker or a careless script hands over ----------------


def test_huge_images_are_refused_from_their_headers_before_any_is_decoded(tmp_path, capsys, forgetctl_home, monkeypatch):
    import forgetctl.engine.images as images

    folder = tmp_path / "huge"
    folder.mkdir()
    for i in range(2):  # 2 x 6000 x 6000 = 72 megapixels, over a budget of 50 (lowered for the test)
        Image.new("RGB", (6000, 6000), "white").save(folder / f"big{i}.png")
    monkeypatch.setattr(images, "MAX_TOTAL_PIXELS", 50_000_000)
    decoded = []
    monkeypatch.setattr(images, "photo_from_bytes", lambda *a: decoded.append(a) or None)
    code, err = run_cli(["erase", "--entity", "X", "--images", str(folder), "--dry-run"], capsys)
    assert_clean_failure(code, err, forgetctl_home, "hold 72 megapixels; the limit is 50")
    assert decoded == []


def test_too_many_photos_are_refused_with_the_limit(tmp_path, capsys, forgetctl_home, monkeypatch):
    import forgetctl.engine.images as images

    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):
        (folder / f"{i}.png").write_bytes(b"x")
    monkeypatch.setattr(images, "MAX_PHOTOS", 10)
    code, err = run_cli(["erase", "--entity", "X", "--images", str(folder)], capsys)
    assert_clean_failure(code, err, forgetctl_home, "12 photos in this request; the limit is 10")


def test_the_limits_are_stated_in_help():
    from typer.testing import CliRunner

    from forgetctl.cli import app
    from forgetctl.engine.images import MAX_PHOTOS

    said = " ".join(CliRunner().invoke(app, ["erase", "--help"], env={"COLUMNS": "200"}).output.split())
    assert f"at most {MAX_PHOTOS} photos per request" in said


def test_a_symlink_to_a_photo_outside_the_folder_is_refused(photos, tmp_path, capsys, forgetctl_home):
    outside = tmp_path / "secret.png"
    Image.new("RGB", (64, 64), "red").save(outside)
    (photos / "zz.png").symlink_to(outside)
    code, err = run_cli(["erase", "--entity", "X", "--images", str(photos)], capsys)
    assert_clean_failure(code, err, forgetctl_home, "symbolic links (zz.png)")


@pytest.mark.parametrize("row, expected", [
    ('{"entity": "X", "images": "../../../etc"}', '"images" must stay inside the requests file\'s folder'),
    ('{"entity": "X", "images": "photos", "profile": "../../etc/shadow"}', '"profile" must stay inside'),
    ('{"entity": ["x"], "images": "photos"}', '"entity" must be the person\'s name as text'),
    ('{"entity": "X", "images": 7}', '"images" must be a path given as text'),
])
def test_a_requests_file_is_confined_to_its_folder_and_typed(photos, tmp_path, capsys, forgetctl_home, row, expected):
    requests = tmp_path / "requests.jsonl"
    requests.write_text(row + "\n")
    code, err = run_cli(["erase", "--requests", str(requests)], capsys)
    assert_clean_failure(code, err, forgetctl_home, expected)
    assert "passwd" not in err and "shadow" not in err.replace("../../etc/shadow", "")  # no folder listed


@pytest.mark.parametrize("names, expected", [
    (["x" * 5_000_000], "a name of 5,000,000 characters; a person's name is at most 200"),
    (["Percival\x1b[31m Ellingwood"], "control characters"),
    (["PERCIVAL  ellingwood", "Percival Ellingwood"], "the same person is named twice"),
    (["Ｐercival Ellingwood", "percival ellingwood"], "the same person is named twice"),
])
def test_names_are_bounded_plain_text_and_one_person_once(photos, capsys, forgetctl_home, names, expected):
    args = [a for name in names for a in ("--entity", name, "--images", str(photos))]
    code, err = run_cli(["erase", *args, "--dry-run"], capsys)
    assert_clean_failure(code, err, forgetctl_home, expected)
    assert "\x1b" not in err


def test_markup_in_a_path_is_printed_literally(photos, tmp_path, capsys, forgetctl_home):
    merge = tmp_path / "[red]release[/]"
    code = 0
    try:
        main(["erase", "--entity", "X", "--images", str(photos), "--merge", str(merge), "--dry-run"])
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr().out
    assert code in (0, None) and "[red]release[/]" in "".join(out.replace("│", "").split())


def test_steps_grow_to_cover_every_persons_photos(tmp_path, forgetctl_home):
    """30 steps of 8 give 10 people 24 examples each, the least measured to hold; for 25 the
    recipe's steps are raised (and said), for one they stay as they are."""
    from forgetctl.demo import demo_model_dir
    from forgetctl.request import PersonForm, RequestForm, validate
    from forgetctl.types import TrainingConfig

    people = load_world().known[:25]
    for p in people:
        write_views(p, tmp_path / p.id)

    def checked(who):
        return validate(RequestForm(people=[PersonForm(p.name, tmp_path / p.id) for p in who], model=demo_model_dir()),
                        default_model=demo_model_dir(), home=forgetctl_home)

    many = checked(people)
    assert many.spec.training.steps == 75  # 25 * 24 / 8
    assert many.notes == ("--steps raised from 30 to 75: 25 people to train on, 24 examples each (the least measured "
                          "to hold, docs/batches.md)",)
    one = checked(people[:1])
    assert one.spec.training.steps == 30 and not one.notes
    given = validate(RequestForm(people=[PersonForm(p.name, tmp_path / p.id) for p in people], model=demo_model_dir(),
                                 training=TrainingConfig(steps=40)), default_model=demo_model_dir(), home=forgetctl_home)
    assert given.spec.training.steps == 40  # a number the user chose is kept, and said to fall short
    assert given.notes == ("--steps 40 gives fewer than 75 steps for 25 people to train on, 24 examples each (the least "
                           "measured to hold, docs/batches.md)",)
    assert not any(forgetctl_home.rglob("*"))  # validation records nothing


@pytest.mark.parametrize("fields, expected", [
    ({"steps": 0}, "--steps must be a number at least 1, not 0"),
    ({"retain_weight": -1.0}, "--retain-weight must be a number at least 0"),
    ({"learning_rate": -1e-4}, "--lr must be a number above 0"),
    ({"lora_dropout": 1.0}, "lora_dropout must be below 1"),
    ({"batch_size": "8"}, "--batch-size must be a number"),
])
def test_a_training_config_is_checked_once_whoever_builds_it(fields, expected):
    from forgetctl.types import TrainingConfig

    with pytest.raises(InputError, match=expected.replace("+", r"\+")):
        TrainingConfig(**fields)
    assert TrainingConfig().steps == 30  # the defaults pass
