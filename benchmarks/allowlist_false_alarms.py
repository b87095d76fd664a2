#!/usr/bin/env python3
"""False alarms on benign pickles real tools write (the allowlist's evidence).

Usage: python benchmarks/allowlist_false_alarms.py [--keep DIR]

Writes, into a temporary folder, the pickles ordinary ML work produces: fitted
scikit-learn estimators (joblib.dump, plain and with every compressor, and pickle.dump),
torch.save checkpoints (state dicts, optimizer and scheduler state, RNG state, numpy
scalars, legacy format, quantized and bfloat16 tensors), numpy object arrays and a
metadata pickle. Nothing is loaded. Each file is scanned; anything not ``clean`` is a
false alarm and is listed with its worst finding. Two sets: ``tuning`` (the estimators
the allowlist was first built from) and ``held-out`` (estimators chosen afterwards).
"""

from __future__ import annotations

import argparse
import collections
import datetime
import pickle
import sys
import tempfile
import warnings
from pathlib import Path
from typing import Any

from modelclear.analyzers.security import analyze
from modelclear.sources import open_release

COMPRESSORS = (0, "zlib", "gzip", "bz2", "lzma", "xz", "lz4")


def _tuning() -> dict[str, Any]:
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.compose import ColumnTransformer
    from sklearn.decomposition import PCA, TruncatedSVD
    from sklearn.ensemble import (
        GradientBoostingClassifier,
        HistGradientBoostingClassifier,
        IsolationForest,
        RandomForestClassifier,
    )
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDClassifier
    from sklearn.naive_bayes import MultinomialNB
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import Pipeline, make_pipeline
    from sklearn.preprocessing import LabelEncoder, MinMaxScaler, OneHotEncoder, StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeRegressor

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 6))
    y = (X[:, 0] > 0).astype(int)
    texts = ["a cat sat", "the dog ran", "cats and dogs", "a bird flew"] * 10
    ty = [0, 1, 0, 1] * 10
    return {
        "logreg": LogisticRegression().fit(X, y),
        "linreg": LinearRegression().fit(X, X[:, 1]),
        "ridge": Ridge().fit(X, X[:, 1]),
        "sgd": SGDClassifier().fit(X, y),
        "rf": RandomForestClassifier(n_estimators=5).fit(X, y),
        "gb": GradientBoostingClassifier(n_estimators=5).fit(X, y),
        "hgb": HistGradientBoostingClassifier(max_iter=5).fit(X, y),
        "iso": IsolationForest(n_estimators=5).fit(X),
        "tree": DecisionTreeRegressor().fit(X, X[:, 2]),
        "pipe": make_pipeline(StandardScaler(), PCA(3), SVC()).fit(X, y),
        "kmeans": KMeans(3, n_init=2).fit(X),
        "tfidf": Pipeline([("v", TfidfVectorizer()), ("nb", MultinomialNB())]).fit(texts, ty),
        "count": CountVectorizer().fit(texts),
        "svd": TruncatedSVD(2).fit(X),
        "mlp": MLPClassifier(max_iter=20).fit(X, y),
        "knn": KNeighborsClassifier().fit(X, y),
        "ohe": OneHotEncoder().fit([["a"], ["b"], ["c"]]),
        "le": LabelEncoder().fit(["x", "y"]),
        "minmax": MinMaxScaler().fit(X),
        "ct": ColumnTransformer([("s", StandardScaler(), [0, 1]), ("m", MinMaxScaler(), [2])]).fit(
            X
        ),
    }


def _held_out() -> dict[str, Any]:
    import numpy as np
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.cluster import DBSCAN, Birch, MiniBatchKMeans
    from sklearn.compose import TransformedTargetRegressor
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.decomposition import NMF, FastICA
    from sklearn.discriminant_analysis import (
        LinearDiscriminantAnalysis,
        QuadraticDiscriminantAnalysis,
    )
    from sklearn.ensemble import (
        AdaBoostClassifier,
        BaggingRegressor,
        ExtraTreesClassifier,
        HistGradientBoostingRegressor,
        RandomForestRegressor,
        StackingClassifier,
        VotingClassifier,
    )
    from sklearn.feature_extraction.text import HashingVectorizer
    from sklearn.gaussian_process import GaussianProcessClassifier, GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, WhiteKernel
    from sklearn.impute import KNNImputer, SimpleImputer
    from sklearn.linear_model import (
        ElasticNet,
        HuberRegressor,
        Lasso,
        LogisticRegression,
        PoissonRegressor,
        SGDRegressor,
    )
    from sklearn.mixture import GaussianMixture
    from sklearn.model_selection import GridSearchCV
    from sklearn.naive_bayes import GaussianNB
    from sklearn.neighbors import KNeighborsRegressor, NearestNeighbors
    from sklearn.preprocessing import (
        LabelBinarizer,
        OrdinalEncoder,
        PolynomialFeatures,
        RobustScaler,
    )
    from sklearn.svm import SVR, LinearSVC

    rng = np.random.default_rng(1)
    X = rng.normal(size=(120, 5))
    y = (X[:, 0] > 0).astype(int)
    yr = X[:, 1] * 2
    return {
        "et": ExtraTreesClassifier(5).fit(X, y),
        "ada": AdaBoostClassifier(n_estimators=5).fit(X, y),
        "bag": BaggingRegressor(n_estimators=3).fit(X, yr),
        "stack": StackingClassifier([("a", LogisticRegression()), ("b", GaussianNB())]).fit(X, y),
        "vote": VotingClassifier([("a", LogisticRegression()), ("b", GaussianNB())]).fit(X, y),
        "rfr": RandomForestRegressor(3).fit(X, yr),
        "hgbr": HistGradientBoostingRegressor(max_iter=3).fit(X, yr),
        "svr": SVR().fit(X, yr),
        "lsvc": LinearSVC().fit(X, y),
        "lasso": Lasso().fit(X, yr),
        "enet": ElasticNet().fit(X, yr),
        "huber": HuberRegressor().fit(X, yr),
        "sgdr": SGDRegressor().fit(X, yr),
        "poisson": PoissonRegressor().fit(np.abs(X), np.abs(yr)),
        "qda": QuadraticDiscriminantAnalysis().fit(X, y),
        "lda": LinearDiscriminantAnalysis().fit(X, y),
        "nmf": NMF(2, max_iter=50).fit(np.abs(X)),
        "ica": FastICA(2).fit(X),
        "birch": Birch().fit(X),
        "dbscan": DBSCAN().fit(X),
        "mbk": MiniBatchKMeans(3, n_init=1).fit(X),
        "gmm": GaussianMixture(2).fit(X),
        "poly": PolynomialFeatures().fit(X),
        "ord": OrdinalEncoder().fit([["a"], ["b"]]),
        "lb": LabelBinarizer().fit([1, 2, 3]),
        "robust": RobustScaler().fit(X),
        "imp": SimpleImputer().fit(X),
        "knnimp": KNNImputer().fit(X),
        "nn": NearestNeighbors(algorithm="ball_tree").fit(X),
        "knnr": KNeighborsRegressor(algorithm="kd_tree").fit(X, yr),
        "ttr": TransformedTargetRegressor(regressor=Lasso()).fit(X, yr),
        "cal": CalibratedClassifierCV(LinearSVC(), cv=2).fit(X, y),
        "hash": HashingVectorizer(),
        "pls": PLSRegression(2).fit(X, yr),
        "gp": GaussianProcessRegressor(RBF() + WhiteKernel()).fit(X[:30], yr[:30]),
        "grid": GridSearchCV(Lasso(), {"alpha": [0.1, 1]}, cv=2).fit(X, yr),
        "gpc": GaussianProcessClassifier().fit(X[:40], y[:40]),
    }


def _torch_and_numpy(out: Path) -> None:
    import numpy as np
    import torch

    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.LayerNorm(3))
    opt = torch.optim.AdamW(net.parameters())
    net(torch.ones(2, 4)).sum().backward()
    opt.step()
    sched = torch.optim.lr_scheduler.StepLR(opt, 2)
    torch.save(
        {
            "model": net.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(),
            "epoch": 3,
            "step": np.int64(10),
            "rng": torch.get_rng_state(),
            "np_rng": np.random.get_state(),
            "when": datetime.datetime.now(),
            "loss": np.float32(0.5),
        },
        out / "ckpt.pt",
    )
    torch.save(net.state_dict(), out / "pytorch_model.bin")
    torch.save(
        {
            "w": torch.randn(3, dtype=torch.bfloat16),
            "q": torch.quantize_per_tensor(torch.ones(3), 0.1, 0, torch.qint8),
        },
        out / "mixed.pth",
    )
    torch.save(net.state_dict(), out / "legacy.pt", _use_new_zipfile_serialization=False)
    np.save(out / "labels.npy", np.array(["a", None, 3], dtype=object), allow_pickle=True)
    np.savez(out / "arrays.npz", a=np.arange(3), b=np.array([{"k": 1}], dtype=object))
    with open(out / "meta.pkl", "wb") as f:
        pickle.dump(
            {
                "vocab": collections.Counter("hello"),
                "dt": np.dtype("float32"),
                "shape": (3, 4),
                "rs": np.random.RandomState(0),
            },
            f,
        )


def write(folder: Path) -> dict[str, str]:
    """Write every benign file; map each file name to its set."""
    import joblib

    warnings.filterwarnings("ignore")
    sets: dict[str, str] = {}
    for label, models in (("tuning", _tuning()), ("held-out", _held_out())):
        for name, model in models.items():
            for comp in COMPRESSORS:
                fname = f"{label}-{name}-{comp or 'raw'}.joblib"
                joblib.dump(model, folder / fname, compress=comp)
                sets[fname] = label
            with open(folder / f"{label}-{name}.pkl", "wb") as fh:
                pickle.dump(model, fh, protocol=4)
            sets[f"{label}-{name}.pkl"] = label
    before = set(p.name for p in folder.iterdir())
    _torch_and_numpy(folder)
    for p in folder.iterdir():
        sets.setdefault(p.name, "torch/numpy" if p.name not in before else sets[p.name])
    return sets


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--keep", type=Path, help="write the files here instead of a temp dir")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        sets = write(folder)
        report = analyze(open_release(str(folder)))
        totals: collections.Counter[str] = collections.Counter()
        alarms: collections.Counter[str] = collections.Counter()
        for f in report.files:
            label = sets.get(f.path, "?")
            totals[label] += 1
            if f.status != "clean":
                alarms[label] += 1
                worst = f.findings[0] if f.findings else None
                print(
                    f"  false alarm {f.path}: {f.status} "
                    f"{worst.code + ' ' + worst.message[:90] if worst else ''}"
                )
        for label in sorted(totals):
            print(f"{label:12} {alarms[label]:3d} / {totals[label]:3d} benign files not clean")
        print(
            f"{'total':12} {sum(alarms.values()):3d} / {sum(totals.values()):3d} "
            f"(allowlist {report.allowlist_version})"
        )
    return 1 if alarms else 0


if __name__ == "__main__":
    sys.exit(main())
