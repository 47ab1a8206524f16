"""examples/train/train.py --register: the training job registers through the Python client,
and the CLI registering the same files with the same flags gets the same version
(issue #25 item 8). Needs Debian's python3-sklearn (scripts/demo installs it)."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

import support

TRAIN = os.path.join(support.HERE, "..", "..", "examples", "train", "train.py")
MAKE_REPO = os.path.join(support.HERE, "..", "..", "scripts", "demo.d", "make-training-repo.sh")


class TrainExampleTest(unittest.TestCase):
    def test_train_registers_and_cli_agrees(self):
        try:
            import sklearn  # noqa: F401
        except ImportError:
            self.fail("needs python3-sklearn (apt-get install python3-sklearn)")
        server = support.Server()
        self.addCleanup(server.stop)
        trainer = server.token("training-job", "trainer")
        repo = os.path.join(tempfile.mkdtemp(dir=server.tmp), "repo")
        subprocess.run([MAKE_REPO, repo], check=True, stdout=subprocess.DEVNULL)
        env = server.env(trainer)
        env["PYTHONPATH"] = os.path.join(support.HERE, "..", "..", "clients", "python")
        p = subprocess.run([sys.executable, "train.py", "--out", "out", "--data-out", "data", "--meta-out", "meta",
                            "--n-estimators", "10", "--register", server.url], cwd=repo, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr.decode())
        line = p.stdout.decode().splitlines()[-1]
        self.assertRegex(line, r"^registered churn version 1 sha256:[0-9a-f]{64} \(new; uploaded \d+ bytes\)$")
        with open(os.path.join(repo, "meta", "env.json")) as f:
            env_flags = [a for k, v in sorted(json.load(f).items()) for a in ("--env", "%s=%s" % (k, v))]
        again = server.cli(["register", "churn", os.path.join(repo, "out"),
                            "--data-path", "train=" + os.path.join(repo, "data", "train.csv"),
                            "--data-path", "test=" + os.path.join(repo, "data", "test.csv"),
                            "--code-dir", repo, "--entrypoint", "train.py",
                            "--params-file", os.path.join(repo, "meta", "params.json"),
                            "--metrics-file", os.path.join(repo, "meta", "metrics.json")] + env_flags, trainer)
        self.assertFalse(again["created"])
        self.assertEqual(again["digest"], line.split()[4])
        # A wrong token: exit 1 with the API's code.
        env["MODELREG_TOKEN"] = "mr_wrong"
        p = subprocess.run([sys.executable, "train.py", "--out", "out", "--data-out", "data", "--meta-out", "meta",
                            "--n-estimators", "10", "--register", server.url], cwd=repo, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 1)
        self.assertIn("UNAUTHENTICATED", p.stderr.decode())


if __name__ == "__main__":
    unittest.main()
