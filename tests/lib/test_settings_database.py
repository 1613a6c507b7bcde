"""The database settings: a SQLite file named by URL runs as the default one does."""

from epigrid import settings


def test_it_runs_a_sqlite_file_named_by_url_with_the_defaults_options(monkeypatch, tmp_path):
    monkeypatch.setenv("EPIGRID_DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    named = settings._database()
    monkeypatch.delenv("EPIGRID_DATABASE_URL")
    default = settings._database()
    assert named["NAME"] == str(tmp_path / "x.sqlite3")
    assert named["OPTIONS"] == default["OPTIONS"]
    assert "journal_mode=WAL" in named["OPTIONS"]["init_command"]
    assert named["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_it_leaves_postgresql_without_sqlite_options(monkeypatch):
    monkeypatch.setenv("EPIGRID_DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    config = settings._database()
    assert "init_command" not in config.get("OPTIONS", {})
    assert "transaction_mode" not in config.get("OPTIONS", {})
