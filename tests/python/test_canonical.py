"""The JSON bytes the Python client hashes: nlohmann::json's number format and the
std::filesystem path normalisation of dataset URIs (the end-to-end proof against the CLI is
test_register.py)."""

import os
import unittest

import support  # noqa: F401  (puts clients/python on sys.path)
from modelreg import _canonical
from modelreg._lineage import lexically_absolute


class CanonicalTest(unittest.TestCase):
    def test_doubles_as_nlohmann(self):
        cases = {0.93: "0.93", 1.0: "1.0", 100.0: "100.0", 0.0: "0.0", 1e15: "1e+15",
                 1e14: "100000000000000.0", 123456789012345.6: "123456789012345.6", 1e16: "1e+16",
                 1e-05: "1e-05", 0.0001: "0.0001", 1.5e300: "1.5e+300", -2.5e-7: "-2.5e-07",
                 1.7976931348623157e308: "1.7976931348623157e+308", 5e-324: "5e-324"}
        for value, text in list(cases.items()) + [(-0.0, "-0.0")]:  # -0.0 == 0.0 as a dict key
            self.assertEqual(_canonical.format_double(value), text, repr(value))
        with self.assertRaises(ValueError):
            _canonical.format_double(float("inf"))

    def test_objects_sorted_compact_utf8(self):
        text = _canonical.dumps({"b": [1, 2.0, None, True], "a": "\u00e9\n\"\\\x01\x7f", "\u00e9": {}, "Z": False})
        self.assertEqual(text, '{"Z":false,"a":"\u00e9\\n\\"\\\\\\u0001\x7f","b":[1,2.0,null,true],"\u00e9":{}}')

    def test_param_and_metric_values(self):
        import fractions
        from modelreg._lineage import metric_value, param_value
        self.assertEqual(param_value("k", 2**70), float(2**70))  # beyond int64: a double, as nlohmann
        self.assertIs(type(param_value("k", 3)), int)
        self.assertEqual(param_value("k", fractions.Fraction(1, 4)), 0.25)  # any numbers.Real
        self.assertEqual(metric_value("m", 1), 1.0)
        self.assertIs(type(metric_value("m", 1)), float)
        for bad in (True, "0.9", None, float("nan")):
            with self.assertRaises(ValueError):
                metric_value("m", bad)
        with self.assertRaises(ValueError):
            param_value("k", [1, 2])
        with self.assertRaises(ValueError):
            param_value("k", float("inf"))

    def test_numpy_scalars(self):
        try:
            import numpy as np
        except ImportError:
            self.skipTest("numpy is not installed (python3-numpy)")
        from modelreg._lineage import metric_value, param_value
        self.assertEqual(_canonical.dumps(param_value("k", np.int64(3))), "3")
        self.assertEqual(_canonical.dumps(param_value("k", np.bool_(True))), "true")
        self.assertEqual(_canonical.dumps(metric_value("m", np.float32(0.5))), "0.5")
        self.assertEqual(_canonical.dumps(metric_value("m", np.float64(0.93))), "0.93")

    def test_dataset_paths_as_std_filesystem(self):
        cwd = os.getcwd()
        self.assertEqual(lexically_absolute("a/./b//c"), cwd + "/a/b/c")
        self.assertEqual(lexically_absolute("a/b/"), cwd + "/a/b/")
        self.assertEqual(lexically_absolute("a/b/.."), cwd + "/a/")
        self.assertEqual(lexically_absolute("."), cwd + "/")
        self.assertEqual(lexically_absolute("/x/../y"), "/y")


if __name__ == "__main__":
    unittest.main()
