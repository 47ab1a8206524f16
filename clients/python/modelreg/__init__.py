"""modelreg: a Python client for the modelreg model registry, standard library only.

    import modelreg
    reg = modelreg.Registry("https://registry:8080", token, ca="ca.pem")
    out = reg.register("churn", "out/model", data_paths={"train": "data/train.csv"},
                       code_dir=".", params={"lr": 0.1}, metrics={"auc": 0.93})
    reg.pull("churn", "/srv/models/churn", stage="production")

See docs/python.md.
"""

from ._registry import Registry
from .errors import RegistryError

__all__ = ["Registry", "RegistryError"]
__version__ = "0.1.0"
