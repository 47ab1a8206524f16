"""The Python client over https: the server's certificate is verified against ca= (a private
CA), and refused without it (issue #25 item 6)."""

import os
import tempfile
import unittest

import support
import modelreg


class TlsTest(unittest.TestCase):
    def test_https_with_ca(self):
        tmp = tempfile.mkdtemp(prefix="modelreg-pytest-")
        server = support.Server(support.make_tls(os.path.join(tmp, "tls")), tmp=tmp)
        self.addCleanup(server.stop)
        self.assertTrue(server.url.startswith("https://127.0.0.1:"))
        bundle = os.path.join(tmp, "bundle")
        support.write(os.path.join(bundle, "model.bin"), os.urandom(5 << 20))
        with modelreg.Registry(server.url, server.admin, ca=server.ca) as reg:
            out = reg.register("tls", bundle, metrics={"auc": 0.9})
            self.assertTrue(out["created"])
            got = reg.pull("tls", os.path.join(tmp, "pulled"), version=out["version"])
            self.assertEqual(got["digest"], out["digest"])
        with open(os.path.join(tmp, "pulled", "model.bin"), "rb") as a, \
                open(os.path.join(bundle, "model.bin"), "rb") as b:
            self.assertEqual(a.read(), b.read())
        # Without the CA the certificate is not trusted: refused at once, not retried.
        with self.assertRaises(modelreg.RegistryError) as e:
            with modelreg.Registry(server.url, server.admin) as reg:
                reg.whoami()
        self.assertEqual(e.exception.code, "UNAVAILABLE")
        self.assertIn("not trusted", e.exception.message)
        self.assertIsNone(e.exception.status)
        with self.assertRaises(ValueError):
            modelreg.Registry(server.url.replace("https", "http"), server.admin, ca=server.ca)


if __name__ == "__main__":
    unittest.main()
