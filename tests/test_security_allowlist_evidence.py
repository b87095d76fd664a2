"""The allowlist lets real estimator and checkpoint pickles through, and nothing more.

Fitted scikit-learn estimators (joblib.dump and pickle.dump) and torch.save training
checkpoints are clean; a payload riding in an allowed estimator (a FunctionTransformer
whose ``func`` is os.system) is still caught, because every global is judged on its own.
Every scikit-learn name in the allowlist exists in the installed scikit-learn, so a typo
cannot silently allow nothing (or something else).
"""

from __future__ import annotations

import importlib
import os
import pickle
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from modelclear.analyzers.security import analyze
from modelclear.sources import open_release

sklearn = pytest.importorskip("sklearn")
joblib = pytest.importorskip("joblib")
np = pytest.importorskip("numpy")


def _statuses(folder: Path) -> dict[str, str]:
    return {r.path: r.status for r in analyze(open_release(str(folder))).files}


def test_fitted_estimators_are_clean(tmp_path: Path) -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(int)
    models = {
        "pipe": make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y),
        "rf": RandomForestClassifier(n_estimators=3, random_state=0).fit(X, y),
        "hgb": HistGradientBoostingClassifier(max_iter=3).fit(X, y),
        "knn": KNeighborsClassifier(algorithm="kd_tree").fit(X, y),
        "gp": GaussianProcessRegressor().fit(X[:20], X[:20, 1]),
    }
    for name, model in models.items():
        joblib.dump(model, tmp_path / f"{name}.joblib", compress=3)
        (tmp_path / f"{name}.pkl").write_bytes(pickle.dumps(model, protocol=4))
    statuses = _statuses(tmp_path)
    assert set(statuses.values()) == {"clean"}, statuses


def test_payload_inside_an_allowed_estimator_is_caught(tmp_path: Path) -> None:
    from sklearn.preprocessing import FunctionTransformer

    joblib.dump(FunctionTransformer(func=os.system), tmp_path / "ft.joblib")
    assert _statuses(tmp_path)["ft.joblib"] == "unsafe"


def test_training_checkpoint_is_clean(tmp_path: Path) -> None:
    torch = pytest.importorskip("torch")
    net = torch.nn.Linear(3, 2)
    opt = torch.optim.AdamW(net.parameters())
    net(torch.ones(1, 3)).sum().backward()
    opt.step()
    torch.save({"model": net.state_dict(), "optimizer": opt.state_dict(),
                "np_rng": np.random.get_state(), "step": np.int64(3),
                "loss": np.float32(0.5)}, tmp_path / "ckpt.pt")
    assert _statuses(tmp_path) == {"ckpt.pt": "clean"}


def test_every_allowlisted_sklearn_name_exists() -> None:
    text = (resources.files("modelclear") / "data" / "safe_globals.toml").read_text("utf-8")
    families = tomllib.loads(text)["allow_families"]
    missing = []
    for module, names in families.items():
        if not module.startswith("sklearn."):
            continue
        mod = importlib.import_module(module)
        missing += [f"{module}.{n}" for n in names if not hasattr(mod, n)]
    assert not missing
