"""A container's files (put_archive, get_archive, export, diff) and images made from them (commit)."""
import io
import tarfile

import docker
import pytest
from conftest import IMAGE, unique


def running(client, **kwargs):
    return client.containers.run(IMAGE, 'sleep 300', detach=True, **kwargs)


def tar_of(files):
    """A tar archive holding `files` (name -> bytes)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w') as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def read_tar(chunks):
    return tarfile.open(fileobj=io.BytesIO(b''.join(chunks)))


@pytest.fixture
def images(client):
    """Images a test makes; removed afterwards."""
    made = []
    yield made
    for i in reversed(made):
        try:
            client.images.remove(i, force=True)
        except docker.errors.APIError:
            pass


def test_put_and_get_archive(client):
    ctr = running(client)
    assert ctr.put_archive('/tmp', tar_of({'hello.txt': b'hello\n', 'dir/inner': b'x'})) is True
    assert ctr.exec_run('cat /tmp/hello.txt /tmp/dir/inner').output == b'hello\nx'
    bits, stat = ctr.get_archive('/tmp/hello.txt')
    assert stat['name'] == 'hello.txt'
    assert stat['size'] == 6
    assert stat['mode'] == 0o644
    assert stat['linkTarget'] == ''
    with read_tar(bits) as tar:
        assert tar.getnames() == ['hello.txt']
        assert tar.extractfile('hello.txt').read() == b'hello\n'


def test_get_archive_of_a_directory(client):
    ctr = running(client)
    ctr.put_archive('/tmp', tar_of({'dir/inner': b'x'}))
    bits, stat = ctr.get_archive('/tmp/dir')
    assert stat['name'] == 'dir'
    assert stat['mode'] & (1 << 31)  # Go's os.ModeDir
    with read_tar(bits) as tar:
        assert tar.getnames() == ['dir', 'dir/inner']


def test_get_archive_stat_of_a_symlink(client):
    ctr = running(client)
    ctr.exec_run('ln -s /etc/passwd /tmp/pw')
    _, stat = client.api.get_archive(ctr.id, '/tmp/pw')
    assert stat['linkTarget'] == '/etc/passwd'
    assert stat['mode'] & (1 << 27)  # Go's os.ModeSymlink


def test_get_archive_missing_is_not_found(client):
    ctr = running(client)
    with pytest.raises(docker.errors.NotFound) as e:
        ctr.get_archive('/compat-nope')
    assert f'Could not find the file /compat-nope in container {ctr.id}' in str(e.value)


def test_put_archive_to_a_file_is_bad_request(client):
    ctr = running(client)
    with pytest.raises(docker.errors.APIError) as e:
        ctr.put_archive('/etc/passwd', tar_of({'x': b'x'}))
    assert e.value.status_code == 400
    assert 'extraction point is not a directory' in str(e.value)


def test_archive_of_a_stopped_container(client):
    ctr = client.containers.create(IMAGE, 'cat /tmp/put.txt')
    assert ctr.put_archive('/tmp', tar_of({'put.txt': b'before start\n'})) is True
    bits, stat = ctr.get_archive('/tmp/put.txt')
    assert stat['size'] == 13
    ctr.start()
    assert ctr.wait()['StatusCode'] == 0
    assert ctr.logs() == b'before start\n'


def test_export(client):
    ctr = running(client)
    ctr.exec_run('sh -c "echo x > /tmp/exported"')
    with read_tar(ctr.export()) as tar:
        names = tar.getnames()
    assert 'tmp/exported' in names
    assert 'bin/busybox' in names


def test_diff(client):
    ctr = running(client)
    ctr.exec_run('sh -c "echo x > /tmp/new; rm /etc/group"')
    changes = ctr.diff()
    assert {'Path': '/tmp/new', 'Kind': 1} in changes
    assert {'Path': '/tmp', 'Kind': 0} in changes
    assert {'Path': '/etc/group', 'Kind': 2} in changes
    assert client.containers.create(IMAGE, 'true').diff() is None


def test_diff_missing_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.diff('compat-missing')


def test_commit(client, images):
    ctr = running(client)
    ctr.exec_run('sh -c "echo committed > /tmp/c"')
    repo = f'compat/{unique("commit")}'
    img = ctr.commit(repository=repo, tag='v1', message='a message', author='compat',
                     changes=['ENV COLOR=blue', 'CMD ["cat", "/tmp/c"]'])
    images.append(img.id)
    assert f'{repo}:v1' in img.tags
    a = img.attrs
    assert a['Comment'] == 'a message'
    assert a['Author'] == 'compat'
    assert a['Parent'] == client.images.get(IMAGE).id
    assert 'COLOR=blue' in a['Config']['Env']
    assert a['Config']['Cmd'] == ['cat', '/tmp/c']
    assert len(a['RootFS']['Layers']) == len(client.images.get(IMAGE).attrs['RootFS']['Layers']) + 1
    history = img.history()
    assert history[0]['Id'] == img.id
    assert history[0]['CreatedBy'] == 'sleep 300'
    assert history[0]['Comment'] == 'a message'
    made = client.containers.create(img.id)
    made.start()
    assert made.wait()['StatusCode'] == 0
    assert made.logs() == b'committed\n'


def test_commit_with_conf(client, images):
    ctr = running(client, environment={'FROM_CONTAINER': '1'})
    res = client.api.commit(ctr.id, conf={'Cmd': ['echo', 'conf']})
    images.append(res['Id'])
    cfg = client.images.get(res['Id']).attrs['Config']
    assert cfg['Cmd'] == ['echo', 'conf']
    assert 'FROM_CONTAINER=1' in cfg['Env']


def test_commit_missing_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.commit('compat-missing')


def test_commit_bad_change_is_bad_request(client):
    ctr = running(client)
    with pytest.raises(docker.errors.APIError) as e:
        client.api.commit(ctr.id, changes=['RUN true'])
    assert e.value.status_code == 400
    assert 'run is not a valid change command' in str(e.value)
