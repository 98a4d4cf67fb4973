"""images.*: get, list, tag, remove, history, save and load, with Docker's errors."""
import io
import tarfile

import docker
import pytest
from conftest import IMAGE, unique


@pytest.fixture
def tags(client):
    """Tags a test makes; removed afterwards (the image itself stays: busybox has its own)."""
    made = []
    yield made
    for t in made:
        try:
            client.images.remove(t)
        except docker.errors.APIError:
            pass


def test_get(any_client):
    img = any_client.images.get(IMAGE)
    assert img.id.startswith('sha256:') and len(img.id) == 71
    assert 'busybox:latest' in img.tags
    a = img.attrs
    assert a['Os'] == 'linux'
    assert a['RootFS']['Type'] == 'layers'
    assert len(a['RootFS']['Layers']) >= 1
    for key in ['Id', 'RepoTags', 'RepoDigests', 'Created', 'Config', 'Architecture', 'Size']:
        assert key in a, key
    assert any_client.images.get(img.id).id == img.id
    assert any_client.images.get(img.short_id.split(':')[1]).id == img.id


def test_get_missing_is_image_not_found(any_client):
    with pytest.raises(docker.errors.ImageNotFound) as e:
        any_client.images.get('compat-missing:latest')
    assert e.value.status_code == 404
    assert 'No such image: compat-missing:latest' in str(e.value)


def test_list(client, tags):
    img = client.images.get(IMAGE)
    assert img.id in [i.id for i in client.images.list()]
    assert [i.id for i in client.images.list(name='busybox')] == [img.id]
    assert [i.id for i in client.images.list(filters={'reference': 'busy*'})] == [img.id]
    assert client.images.list(name='compat-none-such') == []
    [summary] = client.api.images(name='busybox')
    for key in ['Id', 'ParentId', 'RepoTags', 'RepoDigests', 'Created', 'Size', 'SharedSize', 'Labels', 'Containers']:
        assert key in summary, key


def test_list_bad_filter_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.images.list(filters={'bogus': 'x'})
    assert e.value.status_code == 400


def test_tag(any_client, tags):
    img = any_client.images.get(IMAGE)
    repo = f'compat/{unique("repo")}'
    assert img.tag(repo, 'v1') is True
    tags.append(f'{repo}:v1')
    assert any_client.images.get(f'{repo}:v1').id == img.id
    img.reload()
    assert f'{repo}:v1' in img.tags
    assert img.tag(repo) is True
    tags.append(f'{repo}:latest')
    assert any_client.images.get(repo).id == img.id


def test_tag_missing_image_is_not_found(client):
    with pytest.raises(docker.errors.ImageNotFound):
        client.api.tag('compat-missing:latest', 'compat/x', 'y')


def test_tag_bad_reference_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.api.tag(IMAGE, 'Not/Valid', 'y')
    assert e.value.status_code == 400


def test_remove_a_tag_untags(client, tags):
    repo = f'compat/{unique("repo")}'
    client.images.get(IMAGE).tag(repo, 'v1')
    tags.append(f'{repo}:v1')
    assert client.api.remove_image(f'{repo}:v1') == [{'Untagged': f'{repo}:v1'}]
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get(f'{repo}:v1')
    assert client.images.get(IMAGE)


def test_remove_missing_is_image_not_found(any_client):
    with pytest.raises(docker.errors.ImageNotFound) as e:
        any_client.images.remove('compat-missing:latest')
    assert e.value.status_code == 404


def test_remove_image_in_use_conflicts(client):
    ctr = client.containers.create(IMAGE, 'true')
    with pytest.raises(docker.errors.APIError) as e:
        client.images.remove(IMAGE)
    assert e.value.status_code == 409
    assert 'is using its referenced image' in str(e.value)
    assert ctr.short_id in str(e.value)
    assert client.images.get(IMAGE)


def test_remove_by_id_with_several_tags_conflicts(client, tags):
    img = client.images.get(IMAGE)
    repo = f'compat/{unique("repo")}'
    img.tag(repo, 'v1')
    tags.append(f'{repo}:v1')
    with pytest.raises(docker.errors.APIError) as e:
        client.images.remove(img.id)
    assert e.value.status_code == 409
    assert 'image is referenced in multiple repositories' in str(e.value)


def test_history(any_client):
    img = any_client.images.get(IMAGE)
    history = img.history()
    assert isinstance(history, list) and len(history) >= 1
    for entry in history:
        assert sorted(entry.keys()) == ['Comment', 'Created', 'CreatedBy', 'Id', 'Size', 'Tags']
    assert history[0]['Id'] == img.id
    assert 'busybox:latest' in history[0]['Tags']


def test_history_missing_is_image_not_found(client):
    with pytest.raises(docker.errors.ImageNotFound):
        client.api.history('compat-missing:latest')


def test_save_and_load(client, tags):
    repo = f'compat/{unique("saved")}'
    img = client.images.get(IMAGE)
    img.tag(repo, '1')
    tags.append(f'{repo}:1')
    # named=True would name the first of the sorted tags (busybox:latest, as in Docker): name ours.
    data = b''.join(client.images.get(f'{repo}:1').save(named=f'{repo}:1'))
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
    assert 'manifest.json' in names
    assert 'repositories' in names
    client.images.remove(f'{repo}:1')
    loaded = client.images.load(data)
    assert [i.id for i in loaded] == [img.id]
    assert f'{repo}:1' in client.images.get(img.id).tags


def test_save_missing_is_not_found(client):
    with pytest.raises(docker.errors.NotFound):
        b''.join(client.api.get_image('compat-missing:latest'))


def test_load_garbage_raises_image_load_error(client):
    with pytest.raises(docker.errors.ImageLoadError):
        client.images.load(b'this is not a tar archive')


def test_pull_busybox(client):
    img = client.images.pull('busybox', tag='latest')
    assert img.id == client.images.get(IMAGE).id
