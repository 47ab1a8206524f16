"""versions, show, promote, approve (by another principal), rollback, lineage and
audit_decision through the Python client; refusals are RegistryError with the API's code
(issue #25 item 6)."""

import os
import tempfile
import time
import unittest

import support
import modelreg


class WorkflowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.Server()
        cls.tmp = tempfile.mkdtemp(dir=cls.server.tmp)
        cls.tokens = {n: cls.server.token(n, role) for n, role in
                      (("trainer", "trainer"), ("alice", "approver"), ("edge", "agent"), ("aud", "auditor"))}

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def client(self, name):
        r = modelreg.Registry(self.server.url, self.tokens[name])
        self.addCleanup(r.close)
        return r

    def bundle(self, name, content):
        d = os.path.join(self.tmp, name)
        support.write(os.path.join(d, "model.pkl"), content)
        return d

    def test_promote_approve_rollback_lineage_audit(self):
        trainer, alice, aud = self.client("trainer"), self.client("alice"), self.client("aud")
        v1 = trainer.register("flow", self.bundle("v1", b"one"), metrics={"auc": 0.9}, params={"depth": 3})
        # One approval by someone other than the author, and a metric gate.
        self.server.cli(["policy", "set", "flow", "--approvals", "1", "--gate", "auc >= 0.8"])
        v2 = trainer.register("flow", self.bundle("v2", b"two"), metrics={"auc": 0.95}, parent=v1["digest"])
        self.assertEqual([v.get("version", v.get("number")) for v in trainer.versions("flow")], [1, 2])

        trainer.promote("flow", 1, "staging", reason="try it")
        with self.assertRaises(modelreg.RegistryError) as e:
            alice.promote("flow", 1, "production")
        self.assertEqual(e.exception.status, 422)
        self.assertTrue(e.exception.details, "the missing approval is listed")
        # The author may not approve their own version.
        with self.assertRaises(modelreg.RegistryError) as e:
            trainer.approve("flow", 1)
        self.assertIn(e.exception.status, (403, 422))
        a = alice.approve("flow", 1, comment="looks good")
        self.assertTrue(a["approval_added"])
        self.assertFalse(alice.approve("flow", 1)["approval_added"])
        alice.promote("flow", 1, "production", reason="release")
        self.assertEqual(trainer.show("flow", "production")["digest"], v1["digest"])

        trainer.promote("flow", 2, "staging")
        alice.approve("flow", 2)
        alice.promote("flow", 2, "production")
        self.assertEqual(trainer.show("flow", "production")["digest"], v2["digest"])
        rb = alice.rollback("flow", reason="bad canary")
        self.assertEqual(rb["restored"]["digest"], v1["digest"])
        self.assertEqual(rb["demoted"]["digest"], v2["digest"])
        self.assertEqual(trainer.show("flow", "production")["digest"], v1["digest"])
        with self.assertRaises(modelreg.RegistryError) as e:
            trainer.rollback("flow", reason="not mine to do")
        self.assertEqual((e.exception.code, e.exception.status), ("PERMISSION_DENIED", 403))
        kinds = [h.get("kind") for h in (lambda j: j.get("history", j) if isinstance(j, dict) else j)(
            trainer.history("flow"))]
        self.assertIn("rollback", kinds)

        lin = aud.lineage("flow", 2)
        self.assertIn(v1["digest"], repr(lin))  # the parent chain

        # An agent reports a decision made with version 1; the auditor looks it up.
        now = int(time.time() * 1000)
        self.server.post("/api/v1/decisions", {"decisions": [
            {"request_id": "req/42", "model": "flow", "version": 1, "digest": v1["digest"], "agent_id": "edge-1",
             "at_ms": now, "input_sha256": "b" * 64}]}, self.tokens["edge"])
        d = aud.audit_decision("req/42")
        self.assertEqual(d["decision"]["agent_id"], "edge-1")
        self.assertEqual(d["version"]["version"], 1)
        self.assertEqual(d["approvals"][0]["approver"], "alice")
        self.assertEqual(d["production_at_time"]["digest"], v1["digest"])
        with self.assertRaises(modelreg.RegistryError) as e:
            aud.audit_decision("no-such-request")
        self.assertEqual((e.exception.code, e.exception.status), ("NOT_FOUND", 404))
        with self.assertRaises(modelreg.RegistryError) as e:
            trainer.audit_decision("req/42")
        self.assertEqual(e.exception.status, 403)
        with self.assertRaises(ValueError):
            alice.promote("flow", 1, "prod")

        # The event feed follows all of it, in order; a long poll wakes on a change.
        page = aud.events(after=0, limit=1000)
        flow = [e for e in page["events"] if e["model"] == "flow"]
        types = [e["type"] for e in flow]
        self.assertEqual(types[:3], ["registered_model.created", "model_version.created", "policy.changed"])
        self.assertEqual(types[-1], "rollback")
        self.assertEqual(flow[-1]["data"]["reason"], "bad canary")
        ids = [e["id"] for e in page["events"]]
        self.assertEqual(ids, sorted(ids))
        nxt = page["next"]
        self.assertEqual(aud.events(after=nxt)["events"], [])
        trainer.register("flow", self.bundle("v3", b"three"))
        woke = aud.events(after=nxt, wait=30)["events"]
        self.assertEqual([e["type"] for e in woke], ["model_version.created"])
        self.assertEqual(woke[0]["version"], 3)
        first = next(aud.follow(after=nxt))
        self.assertEqual(first["id"], woke[0]["id"])
        with self.assertRaises(modelreg.RegistryError) as e:
            aud.events(after=-1)
        self.assertEqual((e.exception.code, e.exception.status), ("INVALID_ARGUMENT", 400))

    def test_rollback_not_repeated_after_a_lost_answer(self):
        """A stage change whose answer is lost is not sent again (it could roll back twice)."""
        trainer, alice = self.client("trainer"), self.client("alice")
        for n in (1, 2, 3):  # a second rollback would restore version 1
            v = trainer.register("once", self.bundle("once%d" % n, b"once %d" % n))
            alice.promote("once", v["version"], "staging")
            alice.approve("once", v["version"])
            alice.promote("once", v["version"], "production")
        host, port = self.server.url.rsplit("//", 1)[1].split(":")
        relay = support.Relay((host, int(port)), cut_after=0)  # the answer's first byte never comes
        relay.refuse_after_cut = False  # a retry would get through
        self.addCleanup(relay.close)
        with modelreg.Registry(relay.url, self.tokens["alice"]) as r:
            with self.assertRaises(modelreg.RegistryError) as e:
                r.rollback("once", reason="answer lost")
        self.assertEqual(e.exception.code, "UNAVAILABLE")
        self.assertEqual(relay.cuts, 1)
        hist = trainer.history("once")
        hist = hist.get("history", hist) if isinstance(hist, dict) else hist
        restores = [h for h in hist if h.get("kind") == "rollback" and h.get("to") == "production"]
        self.assertEqual(len(restores), 1, hist)
        self.assertEqual(trainer.show("once", "production")["version"], 2)


if __name__ == "__main__":
    unittest.main()
