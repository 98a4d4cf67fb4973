"""
The compatibility suite's world: a throwaway network namespace with berthd inside, built
and checked exactly as test/lib/world.ts builds and checks it for the Node tests.

One daemon per test module (`world`, module scope); `client` talks to it with the API
version docker-py negotiates, `client141` pins 1.41, docker-py 5's default and what most
automation sends. After each test every container, user network and volume is removed
(best effort); at the end of the module berthd is stopped with SIGTERM and the module
fails when anything leaked: netns files, conmon processes, the daemon's cgroup parent,
mounts under its temporary directory. The machine's root namespace is never touched.
"""
import os
import pathlib
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import docker
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
IMAGE = 'busybox'
PREDEFINED_NETWORKS = {'bridge', 'host', 'none'}


def unique(prefix='compat'):
    """A fresh name for a container, network, volume or tag."""
    return f'{prefix}-{secrets.token_hex(4)}'


def ping_status(sock_path):
    """The status of GET /_ping on a unix socket, 0 when nothing answers."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(1)
            s.connect(sock_path)
            s.sendall(b'GET /_ping HTTP/1.0\r\nHost: berth\r\n\r\n')
            head = s.recv(64).decode('latin-1')
        return int(head.split(' ')[1])
    except (OSError, ValueError, IndexError):
        return 0


def must(*argv):
    subprocess.run(argv, check=True, capture_output=True)


class World:
    """berthd in its own namespace with its own roots; `dispose` reports what leaked."""

    def __init__(self):
        # The run's tag (scripts/test.sh) in the name: what a killed run left is found by it.
        run = os.environ.get('BERTH_TEST_RUN')
        tag = f'{run}-{secrets.token_hex(3)}' if run else secrets.token_hex(3)
        self.ns = f'berth-compat-{tag}'
        self.ns_path = f'/run/netns/{self.ns}'
        self.dir = tempfile.mkdtemp(prefix=f'berth-compat-{tag}-')
        self.sock = os.path.join(self.dir, 'berth.sock')
        self.data_root = os.path.join(self.dir, 'data')
        self.exec_root = os.path.join(self.dir, 'exec')
        self.log_path = os.path.join(self.dir, 'berthd.log')
        self.daemon = None
        self.daemon_id = ''
        self.clients = []

    def create(self):
        must('ip', 'netns', 'add', self.ns)
        must('ip', '-n', self.ns, 'link', 'set', 'lo', 'up')
        self.start()

    def start(self):
        # nsenter, never `ip netns exec`: that remounts /sys and hides the cgroups runc needs.
        argv = ['nsenter', f'--net={self.ns_path}', '--', str(REPO / 'bin/berthd'),
                '--data-root', self.data_root, '--exec-root', self.exec_root, '-H', f'unix://{self.sock}']
        with open(self.log_path, 'ab') as log:
            self.daemon = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.daemon.poll() is not None:
                raise RuntimeError(f'berthd exited {self.daemon.returncode}:\n{self.log()}')
            if ping_status(self.sock) == 200:
                c = self.client('1.41')
                self.daemon_id = c.info()['ID']
                # Names the daemon (its cgroups) to a sweep of what a killed run left.
                with open(os.path.join(self.dir, 'daemon-id'), 'w') as f:
                    f.write(self.daemon_id)
                # As on a fresh Docker host, the image is pulled first (berth builds busybox).
                c.images.pull(IMAGE, tag='latest')
                return
            time.sleep(0.05)
        raise RuntimeError(f'berthd did not answer within 20 s:\n{self.log()}')

    def log(self):
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def client(self, version='auto'):
        c = docker.DockerClient(base_url=f'unix://{self.sock}', version=version, timeout=60)
        self.clients.append(c)
        return c

    def stop(self):
        if self.daemon is None or self.daemon.poll() is not None:
            return
        # nsenter execs berthd's shim, which execs node: the PID is the daemon's own.
        self.daemon.send_signal(signal.SIGTERM)
        try:
            self.daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.daemon.kill()
            self.daemon.wait()
            raise RuntimeError('berthd did not stop within 30 s of SIGTERM')

    def dispose(self):
        """Remove everything; returns the leaks found (empty when clean)."""
        leaks = []
        if self.daemon is not None and self.daemon.poll() is None:
            try:
                c = self.client('1.41')
                for ctr in c.containers.list(all=True):
                    ctr.remove(force=True)
            except docker.errors.DockerException as e:
                leaks.append(f'removing containers failed: {e}')
            netns = os.path.join(self.exec_root, 'netns')
            left = [f for f in os.listdir(netns) if not f.startswith('spare-')] if os.path.isdir(netns) else []
            if left:
                leaks.append(f'netns files: {" ".join(left)}')
        for c in self.clients:
            c.close()
        try:
            self.stop()
        except RuntimeError as e:
            leaks.append(str(e))
        # What the stopped daemon left (processes naming the folder, its cgroups, mounts): the
        # integration tests' own remover (test/lib/leftovers.ts), one line per kind.
        left = subprocess.run(['node', str(REPO / 'dist/test/leftovers-cli.js'), 'world', self.dir, self.daemon_id],
                              capture_output=True, text=True, check=True)
        leaks.extend(line for line in left.stdout.splitlines() if line)
        subprocess.run(['ip', 'netns', 'del', self.ns], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        return leaks


@pytest.fixture(scope='module')
def world():
    w = World()
    try:
        w.create()
    except BaseException:
        w.dispose()
        raise
    yield w
    leaks = w.dispose()
    if leaks:
        pytest.fail(f'leaked: {"; ".join(leaks)}')


@pytest.fixture(scope='module')
def client(world):
    """docker-py with the API version it negotiates (berth's 1.44)."""
    return world.client('auto')


@pytest.fixture(scope='module')
def client141(world):
    """docker-py pinned to 1.41, its own default."""
    return world.client('1.41')


@pytest.fixture(params=['auto', '1.41'])
def any_client(request, world):
    """Both clients in turn, for the calls whose shape depends on the version."""
    return world.client(request.param)


@pytest.fixture(autouse=True)
def clean(request):
    """After each test of a module with a world: no containers, user networks or volumes."""
    yield
    if 'world' not in request.fixturenames:
        return
    w = request.getfixturevalue('world')
    if w.daemon is None or w.daemon.poll() is not None:
        return
    c = w.client('1.41')
    try:
        for ctr in c.containers.list(all=True):
            ignore_api_errors(ctr.remove, force=True, v=True)
        for net in c.networks.list():
            if net.name not in PREDEFINED_NETWORKS:
                ignore_api_errors(net.remove)
        for vol in c.volumes.list():
            ignore_api_errors(vol.remove, force=True)
    except docker.errors.DockerException:
        pass
    finally:
        c.close()
        w.clients.remove(c)


def ignore_api_errors(fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except docker.errors.APIError:
        pass


def wait_for(predicate, timeout=10, interval=0.05):
    """Poll until predicate() is truthy; returns its value or fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f'timed out after {timeout} s waiting for {predicate.__name__}')
        time.sleep(interval)


def pytest_configure(config):
    # A SIGTERM (CI's end, a user's kill) unwinds like ^C, so the worlds' teardown still runs.
    def interrupt(signum, frame):
        raise KeyboardInterrupt()
    signal.signal(signal.SIGTERM, interrupt)


def anonymous_volume_container(client, path='/anon'):
    """A created container with an anonymous volume, asked as `docker create -v /anon` asks
    (Config.Volumes; docker-py's high-level `volumes=` would send it as a bind)."""
    created = client.api.create_container(IMAGE, 'true', volumes=[path])
    return client.containers.get(created['Id'])
