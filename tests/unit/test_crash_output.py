"""A bug prints one line with no local variables and no user text; the log keeps frames only."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SECRET = "ZEBRA-mum-said-she-was-frightened"

CLI = textwrap.dedent(f"""
    import sys, threading
    import verbatim.cli as cli

    def crash(args, config):
        note_text = "{SECRET}"
        raise ValueError("could not place " + note_text)

    def thread_crash(args, config):
        def work():
            words = ["{SECRET}"]
            raise KeyError(words[0])
        t = threading.Thread(target=work)
        t.start()
        t.join()
        return 0

    cli._resolve = lambda key: crash if sys.argv[1] == "crash" else thread_crash
    raise SystemExit(cli.main(["study", "info"]))
""")

APP = textwrap.dedent(f"""
    from pathlib import Path
    import sys
    from verbatim.config import Config
    import verbatim.tui.app as module
    from verbatim.tui.app import VerbatimApp

    class Crashing(VerbatimApp):
        CSS_PATH = Path(module.__file__).with_name("app.tcss")

        def on_mount(self) -> None:
            self.set_timer(0.2, self.boom)

        def boom(self) -> None:
            transcript_line = "{SECRET}"
            raise RuntimeError(transcript_line)

    app = Crashing(Config(data_dir=Path(sys.argv[1])), job_runner=lambda *a, **k: None)
    app.run(headless=True, size=(80, 24))
    print("return code", app.return_code)
""")


def _run(code: str, *args: str, data: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO), "VERBATIM_DATA": str(data),
           "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-c", code, *args], env=env, cwd=REPO, text=True,
                          capture_output=True, timeout=120, check=False)


def _check_log(data: Path, kind: str) -> None:
    logs = list((data / "logs").glob("crash-*.log"))
    assert len(logs) == 1
    assert logs[0].stat().st_mode & 0o777 == 0o600
    text = logs[0].read_text()
    assert kind in text and 'File "' in text  # the frames are kept
    assert SECRET not in text


@pytest.mark.parametrize(("mode", "kind"), [("crash", "ValueError"), ("thread", "KeyError")])
def test_cli_bug_is_one_line_without_user_text(tmp_path: Path, mode: str, kind: str) -> None:
    result = _run(CLI, mode, data=tmp_path)
    output = result.stdout + result.stderr
    assert SECRET not in output and "Traceback" not in output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"internal error: {kind}" in lines[0], result.stderr
    assert result.returncode == (70 if mode == "crash" else 0)
    _check_log(tmp_path, kind)


def test_app_bug_is_one_line_without_locals_or_user_text(tmp_path: Path) -> None:
    result = _run(APP, str(tmp_path), data=tmp_path)
    output = result.stdout + result.stderr
    assert SECRET not in output, output[-3000:]
    assert "transcript_line" not in output and "Traceback" not in output
    assert "internal error: RuntimeError" in output
    assert "return code 1" in result.stdout
    _check_log(tmp_path, "RuntimeError")
