"""keep_freed_memory: applied on glibc, left alone where the user chose an allocator setting."""

import platform

import pytest

from gan_directions import allocator

GLIBC = platform.libc_ver()[0] == "glibc"


@pytest.mark.skipif(not GLIBC, reason="glibc's mallopt only")
def test_thresholds_set_on_glibc(monkeypatch):
    for name in allocator.USER_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    assert allocator._set_thresholds() is True


@pytest.mark.parametrize("name", allocator.USER_SETTINGS)
def test_user_setting_wins(monkeypatch, name):
    monkeypatch.setenv(name, "1048576")
    assert allocator._set_thresholds() is False


def test_applied_once(monkeypatch):
    calls = []
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setattr(allocator, "_set_thresholds", lambda: calls.append(1) or True)
    assert allocator.keep_freed_memory() and allocator.keep_freed_memory()
    assert calls == [1]
