"""pull through the Python client: verified, atomic, resumed after a cut connection, and
refusing bytes that do not hash to their digest (issue #25 item 6)."""

import filecmp
import os
import tempfile
import unittest

import support
import modelreg


def same_tree(a, b):
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.diff_files or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(os.path.join(a, d), os.path.join(b, d))
                                               for d in cmp.common_dirs)


def partial_dirs(parent, dest_name):
    return [n for n in os.listdir(parent) if n.startswith("." + dest_name + ".partial-") and not n.endswith(".lock")]


class PullTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.Server()
        cls.tmp = tempfile.mkdtemp(dir=cls.server.tmp)
        cls.bundle = os.path.join(cls.tmp, "bundle")
        support.random_file(os.path.join(cls.bundle, "weights.bin"), 24 << 20, seed="w")  # one GET
        support.random_file(os.path.join(cls.bundle, "second.bin"), 6 << 20, seed="s")
        for i in range(20):  # small ones: blobs/fetch
            support.write(os.path.join(cls.bundle, "small", "f%02d.txt" % i), b"file %d\n" % i * (i + 1))
        support.write(os.path.join(cls.bundle, "small", "copy.txt"), b"file 3\n" * 4)  # a duplicate blob
        support.write(os.path.join(cls.bundle, "empty"), b"")
        cls.reg = modelreg.Registry(cls.server.url, cls.server.admin)
        cls.out = cls.reg.register("pulled", cls.bundle, metrics={"auc": 0.9})

    @classmethod
    def tearDownClass(cls):
        cls.reg.close()
        cls.server.stop()

    def dest(self, name):
        return os.path.join(self.tmp, name)

    def test_pull_verified(self):
        got = self.reg.pull("pulled", self.dest("plain"), version=self.out["version"])
        self.assertEqual(got["digest"], self.out["digest"])
        self.assertTrue(same_tree(self.bundle, self.dest("plain")))
        self.assertEqual(partial_dirs(self.tmp, "plain"), [])
        # A DEST holding this version is left alone; one holding anything else is refused,
        # untouched, unless force=True: then it is replaced whole.
        again = self.reg.pull("pulled", self.dest("plain"))
        self.assertTrue(again["unchanged"])
        self.assertEqual(again["bytes_downloaded"], 0)
        support.write(os.path.join(self.dest("plain"), "small", "extra.txt"), b"not in the bundle")
        with self.assertRaises(modelreg.RegistryError) as e:
            self.reg.pull("pulled", self.dest("plain"))
        self.assertEqual(e.exception.code, "ALREADY_EXISTS")
        self.assertTrue(os.path.exists(os.path.join(self.dest("plain"), "small", "extra.txt")))
        forced = self.reg.pull("pulled", self.dest("plain"), force=True)
        self.assertTrue(forced["replaced"])
        self.assertTrue(same_tree(self.bundle, self.dest("plain")))
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".plain")], [])
        # By digest and by "latest"; into an empty directory.
        os.makedirs(self.dest("empty-dir"))
        self.reg.pull("pulled", self.dest("empty-dir"), version=self.out["digest"])
        self.assertTrue(same_tree(self.bundle, self.dest("empty-dir")))
        # A reader token; a wrong token is the API's UNAUTHENTICATED.
        agent = self.server.token("agent1", "agent")
        with modelreg.Registry(self.server.url, agent) as r:
            r.pull("pulled", self.dest("as-agent"))
        with self.assertRaises(modelreg.RegistryError) as e:
            modelreg.Registry(self.server.url, "mr_not_a_token").pull("pulled", self.dest("never"))
        self.assertEqual((e.exception.code, e.exception.status), ("UNAUTHENTICATED", 401))
        self.assertFalse(os.path.exists(self.dest("never")))
        with self.assertRaises(modelreg.RegistryError) as e:
            self.reg.pull("pulled", self.dest("never"), stage="production")
        self.assertEqual(e.exception.code, "NOT_FOUND")

    def test_cut_connection_resumes(self):
        host, port = self.server.url.rsplit("//", 1)[1].split(":")
        # Cut the download half-way through the large file, then refuse connections: the
        # pull fails after its retries and keeps what arrived.
        relay = support.Relay((host, int(port)), cut_after=14 << 20)
        self.addCleanup(relay.close)
        dest = self.dest("resumed")
        with modelreg.Registry(relay.url, self.server.admin) as r:
            with self.assertRaises(modelreg.RegistryError) as e:
                r.pull("pulled", dest)
        self.assertEqual(e.exception.code, "UNAVAILABLE")
        self.assertIn("kept", e.exception.message)
        self.assertFalse(os.path.exists(dest))
        kept = partial_dirs(self.tmp, "resumed")
        self.assertEqual(len(kept), 1)
        # Damage one kept small file: it must be fetched again, not trusted.
        small = os.path.join(self.tmp, kept[0], "small", "f01.txt")
        if os.path.exists(small):
            with open(small, "r+b") as f:
                f.write(b"X")
        relay.refuse = False
        relay.cut_after = None
        with modelreg.Registry(relay.url, self.server.admin) as r:
            got = r.pull("pulled", dest)
        self.assertGreater(got["bytes_reused"], 0)
        self.assertLess(got["bytes_downloaded"], got["bytes"])
        self.assertTrue(same_tree(self.bundle, dest))
        self.assertEqual(partial_dirs(self.tmp, "resumed"), [])
        self.assertEqual([n for n in os.listdir(self.tmp) if n.startswith(".resumed")], [])

    def test_cli_resumes_what_python_kept(self):
        host, port = self.server.url.rsplit("//", 1)[1].split(":")
        relay = support.Relay((host, int(port)), cut_after=20 << 20)
        self.addCleanup(relay.close)
        dest = self.dest("by-cli")
        with modelreg.Registry(relay.url, self.server.admin) as r:
            with self.assertRaises(modelreg.RegistryError):
                r.pull("pulled", dest)
        self.assertEqual(len(partial_dirs(self.tmp, "by-cli")), 1)
        out = self.server.cli(["pull", "pulled", "latest", dest])
        self.assertGreater(out["bytes_reused"], 0)  # the CLI adopted the directory Python left
        self.assertTrue(same_tree(self.bundle, dest))

    def test_damaged_bytes_refused(self):
        host, port = self.server.url.rsplit("//", 1)[1].split(":")
        # Flip a byte far inside the large file's body on every connection.
        relay = support.Relay((host, int(port)), flip_at=10 << 20)
        self.addCleanup(relay.close)
        dest = self.dest("damaged")
        with modelreg.Registry(relay.url, self.server.admin) as r:
            with self.assertRaises(modelreg.RegistryError) as e:
                r.pull("pulled", dest)
        self.assertEqual(e.exception.code, "DATA_LOSS")
        self.assertFalse(os.path.exists(dest))
        self.assertEqual(partial_dirs(self.tmp, "damaged"), [])


if __name__ == "__main__":
    unittest.main()
