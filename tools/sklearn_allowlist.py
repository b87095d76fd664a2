"""Print the scikit-learn part of ``data/safe_globals.toml`` [allow_families].

Why a script: estimator pickles name each class by its private module path
(``sklearn.linear_model._logistic.LogisticRegression``), which moves between releases,
so the list is regenerated from the installed scikit-learn rather than typed by hand.
What is listed, and why it is safe to import and rebuild on load:

* every estimator ``sklearn.utils.all_estimators()`` returns: rebuilt by
  ``object.__new__`` plus ``BaseEstimator.__setstate__``, which only checks the version
  and updates ``__dict__``; callables an estimator holds (a FunctionTransformer's
  ``func``) are separate globals the scanner judges on their own;
* the helpers fitted estimators pickle (trees, losses, binning, neighbour trees, distance
  metrics, optimizers, calibrators, Birch nodes, scorers, ``Bunch``), found by pickling
  fitted models: each rebuilds arrays and numbers from its state and runs no user code;
* every public class of the Gaussian-process kernel and CV-splitter modules: parameter
  holders whose construction stores numbers.

Run: ``python tools/sklearn_allowlist.py`` and paste the output in place of the block
between the ``# scikit-learn`` markers.
"""

from __future__ import annotations

import importlib
import sys
from collections import defaultdict

#: compiled helpers seen in pickles of fitted estimators (see the module docstring)
HELPERS = {
    "sklearn.tree._tree": ["Tree"],
    "sklearn._loss._loss": [
        "CyHalfBinomialLoss", "CyHalfMultinomialLoss", "CyHalfSquaredError",
        "CyAbsoluteError", "CyPinballLoss", "CyHalfPoissonLoss", "CyHalfGammaLoss",
        "CyHalfTweedieLoss", "CyHalfTweedieLossIdentity", "CyExponentialLoss",
        "CyHuberLoss",
    ],
    "sklearn._loss.loss": [
        "HalfBinomialLoss", "HalfMultinomialLoss", "HalfSquaredError", "AbsoluteError",
        "PinballLoss", "HalfPoissonLoss", "HalfGammaLoss", "HalfTweedieLoss",
        "HalfTweedieLossIdentity", "ExponentialLoss", "HuberLoss",
    ],
    "sklearn._loss.link": [
        "Interval", "IdentityLink", "LogLink", "LogitLink", "HalfLogitLink",
        "MultinomialLogit",
    ],
    "sklearn.ensemble._hist_gradient_boosting.binning": ["_BinMapper"],
    "sklearn.ensemble._hist_gradient_boosting.predictor": ["TreePredictor"],
    "sklearn.linear_model._sgd_fast": [
        "Hinge", "ModifiedHuber", "SquaredHinge", "EpsilonInsensitive",
        "SquaredEpsilonInsensitive",
    ],
    "sklearn.neighbors._kd_tree": ["KDTree", "newObj"],
    "sklearn.neighbors._ball_tree": ["BallTree", "newObj"],
    "sklearn.metrics._dist_metrics": [
        "EuclideanDistance64", "EuclideanDistance32", "ManhattanDistance64",
        "ManhattanDistance32", "MinkowskiDistance64", "MinkowskiDistance32",
        "ChebyshevDistance64", "ChebyshevDistance32", "newObj",
    ],
    "sklearn.neural_network._stochastic_optimizers": ["AdamOptimizer", "SGDOptimizer"],
    "sklearn.calibration": ["_CalibratedClassifier", "_SigmoidCalibration"],
    "sklearn.cluster._birch": ["_CFNode", "_CFSubcluster"],
    "sklearn.gaussian_process._gpc": ["_BinaryGaussianProcessClassifierLaplace"],
    "sklearn.metrics._scorer": ["_PassthroughScorer", "_Scorer", "_MultimetricScorer"],
    "sklearn.utils._bunch": ["Bunch"],
}
#: modules whose every public class is a parameter holder (kernels, CV splitters)
PARAMETER_MODULES = ("sklearn.gaussian_process.kernels", "sklearn.model_selection._split")


def main() -> int:
    from sklearn.utils import all_estimators

    families: dict[str, set[str]] = defaultdict(set)
    for _, cls in all_estimators():
        families[cls.__module__].add(cls.__name__)
    for module, names in HELPERS.items():
        families[module].update(names)
    for module in PARAMETER_MODULES:
        mod = importlib.import_module(module)
        families[module].update(
            n for n, v in vars(mod).items()
            if isinstance(v, type) and v.__module__ == module and not n.startswith("_"))
    lines = [f"# scikit-learn {__import__('sklearn').__version__} (tools/sklearn_allowlist.py)"]
    for module in sorted(families):
        listed = ", ".join(f'"{n}"' for n in sorted(families[module]))
        lines.append(f'"{module}" = [{listed}]')
    lines.append("# end scikit-learn")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
