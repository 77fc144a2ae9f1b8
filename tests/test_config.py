from __future__ import annotations

from pathlib import Path

import pytest

from verifier.config import Config, load_config


def test_defaults_then_file_then_overrides(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('[server]\nlisten = "0.0.0.0:6000"\n[framing]\nmin_face_height_ratio = 0.4\n'
                 '[imaging]\nallowed_formats = ["PNG"]\n')
    c = load_config(f, store={"url": "sqlite:///x.db"})
    assert c.server.listen == "0.0.0.0:6000"
    assert c.framing.min_face_height_ratio == 0.4
    assert c.imaging.allowed_formats == ("PNG",)
    assert c.store.url == "sqlite:///x.db"
    assert c.imaging.max_bytes == Config().imaging.max_bytes  # untouched default


def test_unknown_key_and_wrong_type_are_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[server]\nlisten_port = 5\n")
    with pytest.raises(ValueError, match="server.listen_port"):
        load_config(f)
    f.write_text('[imaging]\nmax_bytes = "big"\n')
    with pytest.raises(ValueError, match="imaging.max_bytes must be int"):
        load_config(f)
