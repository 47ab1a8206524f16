"""A bundle directory on disk, read as the CLI reads it (registry/core/bundle_dir.cc), and its
manifest (registry/core/manifest.cc).

Every regular file under the directory is one layer, named by its path relative to the
directory ('/'-separated), sorted by the UTF-8 bytes of that path; symlinks, hardlinks, devices,
sockets and FIFOs are refused. Empty directories are not part of a bundle; file modes and times
are not recorded. The manifest is an OCI image manifest (canonical JSON) whose config is the
lineage record.
"""

import hashlib
import os
import stat

from . import _canonical

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MODEL_ARTIFACT = "application/vnd.modelreg.model.v1"
DATASET_ARTIFACT = "application/vnd.modelreg.dataset.v1"
LINEAGE_MEDIA = "application/vnd.modelreg.lineage.v1+json"
FILE_MEDIA = "application/vnd.modelreg.file.v1"
EMPTY_MEDIA = "application/vnd.oci.empty.v1+json"
TITLE = "org.opencontainers.image.title"

IO_CHUNK = 8 << 20  # read and hash 8 MiB at a time
MAX_MANIFEST_BYTES = 4 << 20
MAX_FILES = 100000


class LocalFile:
    """One file of a bundle: its bundle path, path on disk, size, and digest once known."""

    __slots__ = ("path", "local", "size", "digest")

    def __init__(self, path, local, size, digest=None):
        self.path, self.local, self.size, self.digest = path, local, size, digest


def sha256_hex_of(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def hash_file(local, buf=None):
    """(digest, size) of a file, read in large chunks."""
    h = hashlib.sha256()
    buf = buf or bytearray(IO_CHUNK)
    view = memoryview(buf)
    size = 0
    with open(local, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            h.update(view[:n])
            size += n
    return "sha256:" + h.hexdigest(), size


def sample_file(local, size):
    """The file's sample (registry/core/digest.cc SampleFd): sha256 of "modelreg-sample-v1 SIZE\\n"
    and 16 blocks of 4 KiB spread evenly over the file (the whole file if smaller)."""
    block, blocks = 4096, 16
    h = hashlib.sha256(("modelreg-sample-v1 %d\n" % size).encode())
    fd = os.open(local, os.O_RDONLY | os.O_CLOEXEC)
    try:
        for i in range(blocks):
            start = i * block if size <= block * blocks else i * (size - block) // (blocks - 1)
            if start >= size:
                break
            want = min(block, size - start)
            data = os.pread(fd, want, start)
            if len(data) != want:
                raise ValueError("%s is shorter than %d bytes" % (local, size))
            h.update(data)
    finally:
        os.close(fd)
    return "sha256:" + h.hexdigest()


def _check_path(rel):
    if "\\" in rel or any(ord(c) < 0x20 or ord(c) == 0x7F for c in rel):
        raise ValueError("'%s': a bundle path must not hold '\\' or control characters" % rel)
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError as e:
        raise ValueError("'%s': a bundle path must be valid UTF-8" % rel) from e


def _walk(root, rel, out):
    here = os.path.join(root, rel) if rel else root
    names = sorted(os.listdir(os.fsencode(here)))
    for raw in names:
        name = os.fsdecode(raw)
        r = rel + "/" + name if rel else name
        full = root + "/" + r  # as the CLI names it (its upload journal's key)
        _check_path(r)
        st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            raise ValueError("'%s' is a symlink; bundles hold regular files only" % r)
        if stat.S_ISDIR(st.st_mode):
            _walk(root, r, out)
            continue
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("'%s' is not a regular file (device, socket or FIFO)" % r)
        if st.st_nlink > 1:
            raise ValueError("'%s' is a hardlink (%d links); copy it into a regular file" % (r, st.st_nlink))
        if len(out) >= MAX_FILES:
            raise ValueError("more than %d files" % MAX_FILES)
        out.append(LocalFile(r, full, st.st_size))


def scan_bundle_dir(directory, hash_up_to=None):
    """The files under `directory`, sorted by bundle path. Files of at most `hash_up_to`
    bytes (all if None) are hashed; larger ones keep digest None (hashed while uploading)."""
    directory = os.fspath(directory)
    if not os.path.isdir(directory):
        if not os.path.exists(directory):
            raise FileNotFoundError("bundle directory %s does not exist" % directory)
        raise ValueError("%s is not a directory" % directory)
    files = []
    _walk(directory, "", files)
    files.sort(key=lambda f: f.path.encode("utf-8"))
    buf = bytearray(IO_CHUNK)
    for f in files:
        if hash_up_to is not None and f.size > hash_up_to:
            continue
        f.digest, n = hash_file(f.local, buf)
        if n != f.size:
            raise ValueError("'%s' changed while it was being read" % f.path)
    return files


def descriptor(media_type, digest, size, title=None):
    d = {"mediaType": media_type, "digest": digest, "size": size}
    if title:
        d["annotations"] = {TITLE: title}
    return d


def build_manifest(artifact_type, config, files):
    """The manifest bytes for `files` (LocalFile with digests) and a config descriptor."""
    layers = [descriptor(FILE_MEDIA, f.digest, f.size, f.path)
              for f in sorted(files, key=lambda f: f.path.encode("utf-8"))]
    return _canonical.dumpb({"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": artifact_type,
                             "config": config, "layers": layers})


def empty_config():
    return descriptor(EMPTY_MEDIA, sha256_hex_of(b"{}"), 2)


def digest_data_path(path):
    """A dataset's digest: sha256 of a file, or of a directory's dataset manifest."""
    st = os.stat(path)
    if stat.S_ISREG(st.st_mode):
        return hash_file(path)[0]
    files = scan_bundle_dir(path)
    return sha256_hex_of(build_manifest(DATASET_ARTIFACT, empty_config(), files))
