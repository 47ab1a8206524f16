"""register through the Python client against a real server, and the same bundle digest from
the Python client and the CLI in both orders (issue #25 items 6, 7)."""

import hashlib
import os
import subprocess
import tempfile
import unittest

import support
import modelreg


def sha(path):
    with open(path, "rb") as f:
        return "sha256:" + hashlib.sha256(f.read()).hexdigest()


class RegisterTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.Server()
        cls.trainer = cls.server.token("trainer1", "trainer")

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory(dir=self.server.tmp)
        self.tmp = self._tmp.name
        self.reg = modelreg.Registry(self.server.url, self.trainer)

    def tearDown(self):
        self.reg.close()
        self._tmp.cleanup()

    def p(self, *parts):
        return os.path.join(self.tmp, *parts)

    def lineage_inputs(self):
        """The same lineage as Python arguments and as CLI flags."""
        support.write(self.p("data", "train.csv"), b"a,b\n1,2\n")
        support.write(self.p("data", "set", "x.csv"), b"x\n")
        support.write(self.p("data", "set", "nested", "y.csv"), b"y\n")
        repo = support.git_repo(self.p("code"))
        with open(os.path.join(repo, "train.py"), "a") as f:  # a tracked file changed: dirty
            f.write("# local change\n")
        support.write(os.path.join(repo, "untracked.txt"), b"not dirty\n")
        raw = "sha256:" + "ab" * 32
        # Relative paths, as a training job gives them (the URI is made absolute the same way).
        cwd = os.getcwd()
        os.chdir(self.tmp)
        self.addCleanup(os.chdir, cwd)
        py = dict(data={"raw": "s3://bucket/raw.parquet@" + raw, "docs": "https://example.com/d"},
                  data_paths={"train": "data/train.csv", "set": "data/set/"}, code_dir="code",
                  entrypoint="train.py",
                  params={"lr": 0.1, "depth": 6, "big": 1e15, "tiny": 1e-05, "flag": True, "none": None,
                          "name": "gbm \u00e9t\u00e9", "neg": -2.5, "huge": 12345678901234567890},
                  metrics={"auc": 0.93, "one": 1, "e15": 1e15, "e16": 1e16, "small": 0.0001234,
                           "neg": -0.5},
                  env={"PYTHON": "3.11", "CUDA": "12.1 \u2713", "EMPTY": ""})
        cli = ["--data", "raw=s3://bucket/raw.parquet@" + raw, "--data", "docs=https://example.com/d",
               "--data-path", "train=data/train.csv", "--data-path", "set=data/set/", "--code-dir", "code",
               "--entrypoint", "train.py",
               "--param", "lr=0.1", "--param", "depth=6", "--param", "big=1e15", "--param", "tiny=1e-05",
               "--param", "flag=true", "--param", "none=null", "--param", "name=gbm \u00e9t\u00e9",
               "--param", "neg=-2.5", "--param", "huge=12345678901234567890",
               "--metric", "auc=0.93", "--metric", "one=1", "--metric", "e15=1e15", "--metric", "e16=1e16",
               "--metric", "small=0.0001234", "--metric", "neg=-0.5",
               "--env", "PYTHON=3.11", "--env", "CUDA=12.1 \u2713", "--env", "EMPTY="]
        return py, cli

    def bundle(self, name, big=0):
        d = self.p(name)
        support.write(os.path.join(d, "model.pkl"), os.urandom(3000))
        support.write(os.path.join(d, "card.json"), b'{"name":"x"}')
        support.write(os.path.join(d, "sub", "deep", "weights.bin"), os.urandom(2 << 20))  # > batch size
        support.write(os.path.join(d, "sub", "B.txt"), b"upper")
        support.write(os.path.join(d, "dup1"), b"same bytes")
        support.write(os.path.join(d, "dup2"), b"same bytes")
        support.write(os.path.join(d, "empty"), b"")
        os.makedirs(os.path.join(d, "emptydir"))
        if big:
            support.random_file(os.path.join(d, "big.bin"), big, seed=name)
        return d

    def test_python_then_cli_same_digest(self):
        py, cli = self.lineage_inputs()
        parent = self.reg.register("parity", self.bundle("p0"), metrics={"auc": 0.5})["digest"]
        d = self.bundle("b1", big=(64 << 20) + 12345)  # a file hashed while it uploads
        out = self.reg.register("parity", d, parent=parent, **py)
        self.assertTrue(out["created"])
        self.assertEqual(out["files"], 8)
        self.assertGreater(out["bytes_uploaded"], 64 << 20)
        again = self.server.cli(["register", "parity", d, "--parent", parent] + cli, self.trainer)
        self.assertFalse(again["created"])
        self.assertEqual(again["digest"], out["digest"])
        self.assertEqual(again["version"], out["version"])
        self.assertEqual(again["bytes_uploaded"], 0)
        # The record the registry keeps holds what was given.
        lin = self.reg.lineage("parity", out["version"])
        rec = lin.get("record", lin.get("lineage", lin))
        text = repr(lin)
        self.assertIn("git.example.com/team/train.git", text)
        self.assertNotIn("secret", text)
        self.assertIn(parent, text)
        self.assertIn(sha(self.p("data", "train.csv")), text)
        self.assertTrue(rec is not None)
        shown = self.reg.show("parity", out["version"])
        self.assertEqual(shown["digest"], out["digest"])
        # And a third time from Python: nothing to send.
        third = self.reg.register("parity", d, parent=parent, **py)
        self.assertFalse(third["created"])
        self.assertEqual(third["bytes_uploaded"], 0)

    def test_cli_then_python_same_digest(self):
        py, cli = self.lineage_inputs()
        d = self.bundle("b2", big=(64 << 20) + 1)
        first = self.server.cli(["register", "parity2", d] + cli, self.trainer)
        self.assertTrue(first["created"])
        out = self.reg.register("parity2", d, **py)
        self.assertFalse(out["created"])
        self.assertEqual(out["digest"], first["digest"])
        self.assertEqual(out["bytes_uploaded"], 0)  # the large file was probed, hashed and skipped

    def test_other_lineage_other_digest(self):
        d = self.bundle("b3")
        a = self.reg.register("other", d, metrics={"auc": 0.9})
        b = self.reg.register("other", d, metrics={"auc": 0.91})
        self.assertTrue(b["created"])
        self.assertNotEqual(a["digest"], b["digest"])
        self.assertEqual([v["version"] if "version" in v else v["number"] for v in self.reg.versions("other")][-1],
                         b["version"])

    def test_clean_tree_branch_and_code_commit(self):
        repo = support.git_repo(self.p("clean"))
        head = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                              check=True).stdout.decode().strip()
        d = self.bundle("b4")
        out = self.reg.register("clean", d, code_dir=repo)
        same = self.server.cli(["register", "clean", d, "--code-dir", repo], self.trainer)
        self.assertFalse(same["created"])
        self.assertEqual(same["digest"], out["digest"])
        text = repr(self.reg.lineage("clean", out["version"]))
        self.assertIn(head, text)
        self.assertIn("'main'", text)
        pinned = self.reg.register("clean", d, code_repo="https://u:p@h.example/r.git", code_commit=head)
        same = self.server.cli(["register", "clean", d, "--code-repo", "https://u:p@h.example/r.git",
                                "--code-commit", head], self.trainer)
        self.assertEqual(same["digest"], pinned["digest"])

    def test_git_facts_as_libgit2(self):
        """The code facts from `git` equal the CLI's from libgit2 in the cases that differ:
        detached HEAD, no remote, remotes without origin, staged-only and untracked-only
        changes, a path below the top of the tree."""
        d = self.bundle("git-cases")

        def git(repo, *args):
            subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@example.com"] + list(args),
                           check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def same(repo, name, code_dir=None):
            code_dir = code_dir or repo
            out = self.reg.register("gitfacts", d, code_dir=code_dir, params={"case": name})
            cli = self.server.cli(["register", "gitfacts", d, "--code-dir", code_dir, "--param", "case=" + name],
                                  self.trainer)
            self.assertEqual(cli["digest"], out["digest"], name)
            return self.reg.lineage("gitfacts", out["version"])

        a = support.git_repo(self.p("ga"), remote="git@host.example:team/a.git")
        same(a, "scp-like remote, clean")
        os.makedirs(os.path.join(a, "src", "deep"))
        same(a, "below the top", os.path.join(a, "src", "deep"))
        support.write(os.path.join(a, "new.txt"), b"untracked\n")
        same(a, "untracked only")
        git(a, "add", "new.txt")
        self.assertIn("True", repr(same(a, "staged only")))
        git(a, "commit", "-q", "-m", "second")
        git(a, "checkout", "-q", "--detach", "HEAD~1")
        same(a, "detached")
        b = support.git_repo(self.p("gb"))
        git(b, "remote", "remove", "origin")
        same(b, "no remote")
        git(b, "remote", "add", "zeta", "https://z.example/z.git")
        git(b, "remote", "add", "alpha", "https://tok@a.example/a.git")
        same(b, "two remotes, no origin")

    def test_upload_cut_off_resumes(self):
        d = self.p("cut")
        support.random_file(os.path.join(d, "weights.bin"), 24 << 20, seed="cut")
        support.write(os.path.join(d, "card.json"), b"{}")
        host, port = self.server.url.rsplit("//", 1)[1].split(":")
        relay = support.Relay((host, int(port)), cut_up_after=12 << 20)  # mid-PATCH
        self.addCleanup(relay.close)
        with modelreg.Registry(relay.url, self.trainer) as reg:
            out = reg.register("cut", d, metrics={"auc": 0.7})
        self.assertEqual(relay.cuts, 1)
        self.assertTrue(out["created"])
        same = self.server.cli(["register", "cut", d, "--metric", "auc=0.7"], self.trainer)
        self.assertFalse(same["created"])
        self.assertEqual(same["digest"], out["digest"])
        got = self.reg.pull("cut", self.p("cut-pulled"), version=out["version"])
        self.assertEqual(got["digest"], out["digest"])
        with open(os.path.join(d, "weights.bin"), "rb") as a, \
                open(self.p("cut-pulled", "weights.bin"), "rb") as b:
            self.assertTrue(a.read() == b.read())

    def test_killed_upload_resumed_by_the_other_client(self):
        """A register that gave up mid-file leaves its session in the journal the CLI uses:
        the next register, from the CLI or Python, resumes it instead of starting over."""
        host, port = self.server.url.rsplit("//", 1)[1].split(":")
        # 24 MiB: hashed first, the journal named by its digest; 64 MiB + 4 KiB: hashed while
        # it uploads, the journal named by its path, size and mtime.
        for name, resume_with, size in (("j-cli", "cli", 24 << 20), ("j-py", "python", 24 << 20),
                                        ("j-big", "cli", (64 << 20) + 4096)):
            d = self.p(name)
            support.random_file(os.path.join(d, "weights.bin"), size, seed=name)
            relay = support.Relay((host, int(port)), cut_up_after=size * 2 // 3)
            relay.refuse_after_up_cut = True
            self.addCleanup(relay.close)
            uploads = os.path.join(support.CACHE, "uploads")
            before = set(os.listdir(uploads)) if os.path.isdir(uploads) else set()
            # The journal is named by the registry's URL: this client talks through the relay
            # but names it by the server's, as the client that resumes will.
            with modelreg.Registry(relay.url, self.trainer) as reg:
                reg._conn.url = self.server.url
                with self.assertRaises(modelreg.RegistryError) as e:
                    reg.register("journal", d, metrics={"auc": 0.6})
            self.assertEqual(e.exception.code, "UNAVAILABLE")
            journals = set(os.listdir(uploads)) - before
            self.assertEqual(len(journals), 1, journals)
            if resume_with == "cli":
                out = self.server.cli(["register", "journal", d, "--metric", "auc=0.6"], self.trainer)
            else:
                out = self.reg.register("journal", d, metrics={"auc": 0.6})
            self.assertTrue(out["created"])
            self.assertLess(out["bytes_uploaded"], size * 2 // 3, "resumed, not sent again whole")
            self.assertEqual(set(os.listdir(uploads)) - before, set(), "the journal goes once finished")

    def test_errors(self):
        d = self.bundle("b5")
        with self.assertRaises(modelreg.RegistryError) as e:
            modelreg.Registry(self.server.url, "mr_wrong_token").register("errs", d)
        self.assertEqual(e.exception.code, "UNAUTHENTICATED")
        self.assertEqual(e.exception.status, 401)
        with self.assertRaises(modelreg.RegistryError) as e:
            self.reg.show("errs", "7")
        self.assertEqual((e.exception.code, e.exception.status), ("NOT_FOUND", 404))
        os.makedirs(self.p("nothing"))
        with self.assertRaisesRegex(ValueError, "holds no files"):
            self.reg.register("errs", self.p("nothing"))
        with self.assertRaisesRegex(ValueError, "model name"):
            self.reg.register("Bad Name", d)
        with self.assertRaisesRegex(ValueError, "finite"):
            self.reg.register("errs", d, metrics={"auc": float("nan")})
        with self.assertRaisesRegex(ValueError, "digest"):
            self.reg.register("errs", d, parent="sha256:XYZ")
        with self.assertRaisesRegex(ValueError, "not inside a git repository"):
            self.reg.register("errs", d, code_dir=self.p("nothing"))
        os.symlink("model.pkl", os.path.join(d, "link"))
        with self.assertRaisesRegex(ValueError, "symlink"):
            self.reg.register("errs", d)
        os.unlink(os.path.join(d, "link"))
        # An auditor may not register: the API's code and status.
        auditor = self.server.token("aud1", "auditor")
        with self.assertRaises(modelreg.RegistryError) as e:
            modelreg.Registry(self.server.url, auditor).register("errs", d)
        self.assertEqual(e.exception.status, 403)
        self.assertEqual(e.exception.code, "PERMISSION_DENIED")
        # Nothing listens: UNAVAILABLE after the retries, no HTTP status.
        with self.assertRaises(modelreg.RegistryError) as e:
            import socket
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
            s.close()
            modelreg.Registry("http://127.0.0.1:%d" % port, self.trainer).whoami()
        self.assertEqual(e.exception.code, "UNAVAILABLE")
        self.assertIsNone(e.exception.status)

    def test_token_and_url_from_environment(self):
        old = {k: os.environ.get(k) for k in ("MODELREG_URL", "MODELREG_TOKEN")}
        os.environ.update(MODELREG_URL=self.server.url, MODELREG_TOKEN=self.trainer + "\n")
        try:
            self.assertEqual(modelreg.Registry().whoami()["name"], "trainer1")
        finally:
            for k, v in old.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v


if __name__ == "__main__":
    unittest.main()
