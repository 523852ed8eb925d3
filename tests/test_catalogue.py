"""Model catalogue and downloads, against a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import socket
import threading

import pytest
from click.testing import CliRunner
from gan_directions.cli.main import cli

from gan_directions.errors import DownloadError, ModelLoadError
from gan_directions.generators import catalogue
from gan_directions.generators.registry import load_generator

REQUIRED = ["stylegan2-celebahq", "stylegan2-ffhq", "stylegan2-ffhq256", "stylegan2-metfaces",
            "stylegan2-afhqcat", "stylegan2-afhqdog", "stylegan2-afhqwild", "stylegan2-cifar10",
            "stylegan2-brecahad"]


class Handler(http.server.BaseHTTPRequestHandler):
    payload = b""

    def do_GET(self):  # noqa: N802 (http.server API)
        data = self.payload
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.path.startswith("/cut"):
            self.wfile.write(data[: len(data) // 3])  # then close: an interrupted transfer
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server(data_dir):
    Handler.payload = (data_dir / "tiny64.pkl").read_bytes()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("GANDIR_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def write_user_catalogue(home, entries: dict[str, dict]) -> None:
    home.mkdir(parents=True, exist_ok=True)
    lines = []
    for name, fields in entries.items():
        lines.append(f"[models.{name}]")
        lines += [f"{key} = {value!r}".replace("'", '"') for key, value in fields.items()]
    (home / "models.toml").write_text("\n".join(lines) + "\n")


def cache_files(home) -> list[str]:
    models = home / "models"
    return sorted(p.name for p in models.iterdir()) if models.is_dir() else []


def test_builtin_catalogue_lists_the_required_models():
    entries = catalogue.load_catalogue()
    assert set(REQUIRED) <= set(entries)
    celebahq = entries["stylegan2-celebahq"]
    assert celebahq.resolution == 256
    assert celebahq.url.endswith(
        "transfer-learning-source-nets/celebahq-res256-mirror-paper256-kimg100000-ada-target0.5.pkl")
    assert all(entry.url.startswith("https://") for entry in entries.values())


def test_download_success_records_checksum_and_loads(server, home, data_dir):
    digest = hashlib.sha256((data_dir / "tiny64.pkl").read_bytes()).hexdigest()
    write_user_catalogue(home, {"tiny": {"url": f"{server}/tiny64.pkl", "resolution": 64}})
    path = catalogue.fetch_model("tiny", progress=False)
    assert path == home / "models" / "tiny.pkl"
    assert (home / "models" / "tiny.pkl.sha256").read_text().strip() == digest
    generator = load_generator("tiny")
    assert generator.name == "tiny" and generator.source_sha256 == digest
    assert cache_files(home) == ["tiny.pkl", "tiny.pkl.sha256"]
    assert catalogue.fetch_model("tiny") == path  # cached: no second download


def test_known_checksum_is_verified(server, home, data_dir):
    digest = hashlib.sha256((data_dir / "tiny64.pkl").read_bytes()).hexdigest()
    write_user_catalogue(home, {"good": {"url": f"{server}/a.pkl", "sha256": digest},
                                "bad": {"url": f"{server}/b.pkl", "sha256": "0" * 64}})
    assert catalogue.fetch_model("good", progress=False).is_file()
    with pytest.raises(DownloadError, match="checksum mismatch for bad"):
        catalogue.fetch_model("bad", progress=False)
    assert cache_files(home) == ["good.pkl", "good.pkl.sha256"]


def test_interrupted_download_leaves_nothing(server, home):
    write_user_catalogue(home, {"cut": {"url": f"{server}/cut.pkl"}})
    with pytest.raises(DownloadError, match="interrupted after"):
        catalogue.fetch_model("cut", progress=False)
    assert cache_files(home) == []


def test_offline_error_explains_what_to_do(home):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    write_user_catalogue(home, {"far": {"url": f"http://127.0.0.1:{port}/x.pkl"}})
    with pytest.raises(DownloadError, match="no network.*local .*path.*GANDIR_HOME"):
        catalogue.fetch_model("far", progress=False)


def test_file_url_and_tampered_cache(home, data_dir, tmp_path):
    source = tmp_path / "src.pkl"
    shutil.copy(data_dir / "tiny64.pkl", source)
    write_user_catalogue(home, {"local": {"url": source.as_uri()}})
    path = catalogue.fetch_model("local", progress=False)
    path.write_bytes(path.read_bytes()[:100])
    (home / "models" / "local.pkl.sha256").unlink()  # no record: the file is hashed again
    write_user_catalogue(home, {"local": {"url": source.as_uri(), "sha256": "1" * 64}})
    with pytest.raises(DownloadError, match="does not match its sha256"):
        catalogue.fetch_model("local")


def test_unknown_name():
    with pytest.raises(ModelLoadError, match="unknown model name: 'no-such-model'"):
        load_generator("no-such-model")


def test_cli_download_errors_are_one_line(server, home):
    write_user_catalogue(home, {"cut": {"url": f"{server}/cut.pkl"},
                                "bad": {"url": f"{server}/b.pkl", "sha256": "0" * 64},
                                "ok": {"url": f"{server}/ok.pkl"}})
    runner = CliRunner()
    for name, message in (("cut", "interrupted"), ("bad", "checksum mismatch"),
                          ("nope", "unknown model name")):
        result = runner.invoke(cli, ["models", "download", name, "-q"])
        assert result.exit_code == 1
        assert result.stderr.count("\n") == 1 and message in result.stderr
    assert cache_files(home) == []
    result = runner.invoke(cli, ["models", "download", "ok", "-q"])
    assert result.exit_code == 0 and result.stdout.strip().endswith("ok.pkl")
    listing = runner.invoke(cli, ["models", "list"])
    assert "stylegan2-celebahq" in listing.stdout and "ok" in listing.stdout
    inspect = runner.invoke(cli, ["models", "inspect", "ok"])
    assert inspect.exit_code == 0 and "num_ws: 10" in inspect.stdout


def test_corrupt_cached_file_is_refused_with_a_redownload_hint(home, data_dir, tmp_path):
    source = tmp_path / "src.pkl"
    shutil.copy(data_dir / "tiny64.pkl", source)
    write_user_catalogue(home, {"local": {"url": source.as_uri(), "resolution": 64}})
    path = catalogue.fetch_model("local", progress=False)  # downloaded, digest recorded
    data = bytearray(path.read_bytes())
    data[len(data) // 2:len(data) // 2 + 64] = bytes(b ^ 0xFF for b in data[len(data) // 2:][:64])
    path.write_bytes(bytes(data))  # 64 flipped bytes in the cached copy
    result = CliRunner().invoke(cli, ["generate", "--model", "local", "--seeds", "0",
                                      "--out", str(tmp_path / "out"), "-q"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "does not match its sha256" in result.output
    assert "gandir models download local" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_wrong_resolution_at_a_catalogue_path_is_refused(home, data_dir, tmp_path):
    cached = catalogue.cached_path("stylegan2-celebahq")
    cached.parent.mkdir(parents=True)
    shutil.copy(data_dir / "tiny64.pkl", cached)  # a 64 px network where a 256 px one belongs
    result = CliRunner().invoke(cli, ["find", "--model", "stylegan2-celebahq", "--method",
                                      "random", "--out", str(tmp_path / "out"), "--quiet"])
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert "64 px, 3-channel network" in result.output and "is 256 px" in result.output
    assert "gandir models download stylegan2-celebahq" in result.output
    assert not cached.with_name(cached.name + ".sha256").exists()  # not trusted on first use
    assert not (tmp_path / "out").exists()
