#!/usr/bin/python3
"""Small, deterministic training job for the modelreg demo.

Trains a scikit-learn GradientBoostingClassifier on the breast-cancer data set that
scikit-learn ships with (no download), evaluates it on a held-out split and writes:

  --out DIR       model bundle: model.pkl, model_card.json
  --data-out DIR  the data actually used: train.csv (fit) and test.csv (held out), and
                  reference.csv: the training rows with the model's predicted probability of
                  class 1 beside each ("prediction"), the reference for
                  `modelreg register --profile-data reference=DATA/reference.csv --target target
                  --output-column prediction` (docs/monitoring.md)
  --meta-out DIR  lineage inputs for `modelreg register`: params.json, metrics.json, env.json

With --register URL it then registers the bundle itself through the Python client
(clients/python, standard library only; docs/python.md), with the same lineage the CLI
would record: train.csv and test.csv as datasets, the git repository holding train.py as
code, params, metrics and environment. `modelreg register` of the same files and flags
afterwards answers `created: false`: both clients build the same bytes.

The same arguments with the same library versions give byte-identical files, so
registering twice yields the same bundle digest. Nothing here contains a timestamp.
"""

import argparse
import csv
import json
import os
import pickle
import platform
import sys
import tempfile

# Keep numerical libraries single-threaded and quiet: results must not depend on the machine.
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
import sklearn  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

PICKLE_PROTOCOL = 4
DATASET = "sklearn.datasets.load_breast_cancer"


def positive_int(text):
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be an integer >= 1")
    return value


def non_negative_int(text):
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be an integer >= 0")
    return value


def positive_float(text):
    value = float(text)
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number > 0")
    return value


def fraction(text):
    value = float(text)
    if not 0.0 < value < 1.0:
        raise argparse.ArgumentTypeError("must be a number strictly between 0 and 1")
    return value


def parse_args(argv):
    p = argparse.ArgumentParser(
        description="Train a small GradientBoostingClassifier and write a modelreg bundle.")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="bundle directory to write model.pkl and model_card.json into (created)")
    p.add_argument("--data-out", required=True, metavar="DIR",
                   help="directory to write train.csv and test.csv into (created)")
    p.add_argument("--meta-out", required=True, metavar="DIR",
                   help="directory to write params.json, metrics.json, env.json into (created)")
    p.add_argument("--name", default="churn", help="model name recorded in the model card")
    p.add_argument("--max-depth", type=positive_int, default=3)
    p.add_argument("--learning-rate", type=positive_float, default=0.1)
    p.add_argument("--n-estimators", type=positive_int, default=100)
    p.add_argument("--subsample", type=positive_float, default=1.0,
                   help="fraction of rows per boosting stage (<= 1.0)")
    p.add_argument("--test-size", type=fraction, default=0.2)
    p.add_argument("--seed", type=non_negative_int, default=42)
    p.add_argument("--register", "--registry", dest="register", metavar="URL",
                   help="after training, register the bundle as model --name at this registry "
                        "(token: --token-file or $MODELREG_TOKEN)")
    p.add_argument("--token-file", metavar="F", help="file holding the registry token")
    p.add_argument("--ca", metavar="PEM", help="CA certificate of an https:// registry")
    p.add_argument("--parent", metavar="DIGEST", help="bundle digest of the model this one fine-tunes")
    args = p.parse_args(argv)
    if args.subsample > 1.0:
        p.error("argument --subsample: must be a number in (0, 1]")
    # The bundle directory is hashed file by file: keep data and metadata out of it.
    out = os.path.realpath(args.out)
    for flag, other in (("--data-out", args.data_out), ("--meta-out", args.meta_out)):
        if os.path.realpath(other) == out:
            p.error("%s must be a different directory from --out" % flag)
    return args


def write_atomic(path, data):
    """Write bytes to path via a temp file + rename, so readers never see half a file."""
    directory = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def json_bytes(obj):
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def csv_bytes(header, X, y):
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(header) + ["target"])
    for row, label in zip(X, y):
        # repr() of a Python float is the shortest round-trip form: exact and stable.
        w.writerow([repr(float(v)) for v in row] + [int(label)])
    return buf.getvalue().encode("utf-8")


def reference_bytes(header, X, y, proba):
    """train.csv plus the model's output on each row: the profile's output reference."""
    import io
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(list(header) + ["target", "prediction"])
    for row, label, p in zip(X, y, proba):
        w.writerow([repr(float(v)) for v in row] + [int(label), repr(float(p))])
    return buf.getvalue().encode("utf-8")


def import_client():
    """The modelreg package: installed, on PYTHONPATH, or beside this file in a checkout."""
    try:
        import modelreg
    except ImportError:
        here = os.path.dirname(os.path.abspath(__file__))
        sys.path.insert(0, os.path.join(here, "..", "..", "clients", "python"))
        try:
            import modelreg
        except ImportError:
            raise SystemExit("train.py: error: --register needs the modelreg client: set "
                             "PYTHONPATH=<modelreg checkout>/clients/python or "
                             "pip install <modelreg checkout>/clients/python")
    return modelreg


def git_tree_of(path):
    """The top of the git working tree holding path, or None."""
    import subprocess
    try:
        p = subprocess.run(["git", "-C", path, "rev-parse", "--show-toplevel"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    return p.stdout.decode().strip() if p.returncode == 0 else None


def register(args, params, metrics, env):
    """Registers args.out as model args.name with its lineage; prints the outcome."""
    modelreg = import_client()
    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read()
    script = os.path.realpath(__file__)
    code_dir = git_tree_of(os.path.dirname(script))
    with modelreg.Registry(args.register, token, ca=args.ca) as reg:
        out = reg.register(
            args.name, args.out,
            data_paths={"train": os.path.join(args.data_out, "train.csv"),
                        "test": os.path.join(args.data_out, "test.csv")},
            code_dir=code_dir, entrypoint=os.path.relpath(script, code_dir) if code_dir else None,
            params=params, metrics=metrics, env=env, parent=args.parent)
    print("registered %s version %s %s (%s; uploaded %d bytes)"
          % (out["model"], out["version"], out["digest"],
             "new" if out["created"] else "already registered", out["bytes_uploaded"]))


def major_minor(version):
    return ".".join(version.split(".")[:2])


def main(argv):
    args = parse_args(argv)

    ds = load_breast_cancer()
    features = [str(f) for f in ds.feature_names]
    X_train, X_test, y_train, y_test = train_test_split(
        ds.data, ds.target, test_size=args.test_size, random_state=args.seed,
        stratify=ds.target)

    model = GradientBoostingClassifier(
        max_depth=args.max_depth,
        learning_rate=args.learning_rate,
        n_estimators=args.n_estimators,
        subsample=args.subsample,
        random_state=args.seed,
    )
    model.fit(X_train, y_train)

    proba = model.predict_proba(X_test)[:, 1]
    pred = model.predict(X_test)
    metrics = {
        "accuracy": round(float(accuracy_score(y_test, pred)), 6),
        "auc": round(float(roc_auc_score(y_test, proba)), 6),
        "logloss": round(float(log_loss(y_test, proba, labels=[0, 1])), 6),
    }
    params = {
        "learning_rate": args.learning_rate,
        "max_depth": args.max_depth,
        "n_estimators": args.n_estimators,
        "seed": args.seed,
        "subsample": args.subsample,
        "test_size": args.test_size,
    }
    env = {
        "numpy": np.__version__,
        "python": major_minor(platform.python_version()),
        "sklearn": sklearn.__version__,
    }
    card = {
        "name": args.name,
        "framework": "scikit-learn",
        "sklearn": sklearn.__version__,
        "estimator": type(model).__name__,
        "format": "pickle",
        "pickle_protocol": PICKLE_PROTOCOL,
        "file": "model.pkl",
        "task": "binary-classification",
        "dataset": DATASET,
        "features": features,
        "n_train": int(len(y_train)),
        "n_test": int(len(y_test)),
        "target": "target",
        "classes": [int(c) for c in model.classes_],
        "class_names": [str(c) for c in ds.target_names],
        "output": "predict_proba(X)[:, 1] is the probability of class 1 (%s)" % ds.target_names[1],
    }

    for d in (args.out, args.data_out, args.meta_out):
        os.makedirs(d, exist_ok=True)

    write_atomic(os.path.join(args.out, "model.pkl"),
                 pickle.dumps(model, protocol=PICKLE_PROTOCOL))
    write_atomic(os.path.join(args.out, "model_card.json"), json_bytes(card))
    write_atomic(os.path.join(args.data_out, "train.csv"), csv_bytes(features, X_train, y_train))
    write_atomic(os.path.join(args.data_out, "test.csv"), csv_bytes(features, X_test, y_test))
    write_atomic(os.path.join(args.data_out, "reference.csv"),
                 reference_bytes(features, X_train, y_train, model.predict_proba(X_train)[:, 1]))
    write_atomic(os.path.join(args.meta_out, "params.json"), json_bytes(params))
    write_atomic(os.path.join(args.meta_out, "metrics.json"), json_bytes(metrics))
    write_atomic(os.path.join(args.meta_out, "env.json"), json_bytes(env))

    print("trained %s: GradientBoostingClassifier n_estimators=%d max_depth=%d "
          "learning_rate=%g seed=%d auc=%.4f logloss=%.4f accuracy=%.4f -> %s"
          % (args.name, args.n_estimators, args.max_depth, args.learning_rate, args.seed,
             metrics["auc"], metrics["logloss"], metrics["accuracy"], args.out))
    if args.register:
        register(args, params, metrics, env)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except (OSError, ValueError) as e:
        print("train.py: error: %s" % e, file=sys.stderr)
        sys.exit(1)
    except Exception as e:  # modelreg.RegistryError: the registry's code and message
        if type(e).__name__ != "RegistryError":
            raise
        print("train.py: error: %s" % e, file=sys.stderr)
        sys.exit(1)
