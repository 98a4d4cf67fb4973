"""images.build: the classic builder through docker-py (a path, a file object, a custom
context, build args, target, labels), its log stream, and BuildError with Docker's text."""
import io
import os
import tarfile
import tempfile

import docker
import pytest
from conftest import unique


@pytest.fixture
def context():
    with tempfile.TemporaryDirectory(prefix='berth-compat-build-') as d:
        yield d


def write(d, name, text):
    p = os.path.join(d, name)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'w') as f:
        f.write(text)


def test_build_path_runs_and_caches(client, context):
    write(context, 'Dockerfile', 'FROM busybox AS base\nARG WHO=nobody\nCOPY msg.txt /msg.txt\n'
          'RUN echo "$WHO: $(cat /msg.txt)" > /out\nFROM base AS final\nLABEL stage=final\nCMD ["cat", "/out"]\n')
    write(context, 'msg.txt', 'hello')
    write(context, '.dockerignore', 'secret\n')
    write(context, 'secret', 'x')
    tag = unique('compat-build')
    image, logs = client.images.build(path=context, tag=tag, buildargs={'WHO': 'py'}, labels={'via': 'docker-py'}, rm=True)
    try:
        text = ''.join(line.get('stream', '') for line in logs)
        assert 'Step 1/8 : FROM busybox AS base' in text
        assert 'Step 8/8 : LABEL via=docker-py' in text
        assert f'Successfully tagged {tag}:latest' in text
        assert image.id.startswith('sha256:')
        assert f'{tag}:latest' in image.tags
        assert image.labels == {'stage': 'final', 'via': 'docker-py'}
        assert client.containers.run(image.id, remove=True) == b'py: hello\n'
        again, logs2 = client.images.build(path=context, tag=tag, buildargs={'WHO': 'py'}, labels={'via': 'docker-py'})
        assert again.id == image.id
        assert any('Using cache' in line.get('stream', '') for line in logs2)
        base, _ = client.images.build(path=context, target='base')
        assert base.id != image.id
    finally:
        client.images.remove(tag, force=True)


def test_build_fileobj_and_custom_context(client):
    image, _ = client.images.build(fileobj=io.BytesIO(b'FROM busybox\nENV FROM_FILEOBJ=1\n'))
    assert 'FROM_FILEOBJ=1' in image.attrs['Config']['Env']
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w:gz') as tar:
        for name, data in [('build/Containerfile', b'FROM busybox\nCOPY data.txt /\n'), ('data.txt', b'tar')]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    image, _ = client.images.build(fileobj=buf, custom_context=True, encoding='gzip', dockerfile='build/Containerfile')
    assert client.containers.run(image.id, ['cat', '/data.txt'], remove=True) == b'tar'


def test_build_error_is_build_error(client):
    with pytest.raises(docker.errors.BuildError) as e:
        client.images.build(fileobj=io.BytesIO(b'FROM busybox\nRUN echo failing && exit 7\n'))
    assert e.value.msg == "The command '/bin/sh -c echo failing && exit 7' returned a non-zero code: 7"
    assert any(line.get('stream') == 'failing\n' for line in e.value.build_log)
    with pytest.raises(docker.errors.APIError) as e2:
        client.images.build(fileobj=io.BytesIO(b'FROM busybox\nNOPE x\n'))
    assert 'unknown instruction: NOPE' in str(e2.value)
