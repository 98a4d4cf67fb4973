"""volumes.*: create, get, list with filters, remove, prune (whose default changed in 1.42)."""
import docker
import pytest
from conftest import IMAGE, anonymous_volume_container, unique


def test_create_and_get(any_client):
    name = unique('vol')
    vol = any_client.volumes.create(name, driver='local', labels={'team': 'a'})
    a = vol.attrs
    assert vol.name == name and vol.id == name
    assert a['Name'] == name
    assert a['Driver'] == 'local'
    assert a['Scope'] == 'local'
    assert a['Labels'] == {'team': 'a'}
    assert a['Mountpoint'].endswith(f'/volumes/{name}/_data')
    assert 'CreatedAt' in a
    got = any_client.volumes.get(name)
    assert got.attrs == a


def test_create_with_driver_opts(client):
    vol = client.volumes.create(unique('vol'), driver_opts={'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=1m'})
    assert vol.attrs['Options'] == {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=1m'}
    out = client.containers.run(IMAGE, 'sh -c "grep \' /data \' /proc/mounts"', volumes=[f'{vol.name}:/data'], remove=True)
    assert out.startswith(b'tmpfs /data tmpfs')


def test_mount_driver_config_creates_the_volume(client):
    name = unique('vol')
    opts = {'type': 'tmpfs', 'device': 'tmpfs', 'o': 'size=2m'}
    mount = docker.types.Mount('/data', name, type='volume', driver_config=docker.types.DriverConfig('local', opts), labels={'made': 'by-mount'})
    out = client.containers.run(IMAGE, 'sh -c "grep \' /data \' /proc/mounts"', mounts=[mount], remove=True)
    assert out.startswith(b'tmpfs /data tmpfs')
    vol = client.volumes.get(name)
    assert vol.attrs['Options'] == opts
    assert vol.attrs['Labels'] == {'made': 'by-mount'}
    vol.remove()


def test_create_existing_returns_it(client):
    name = unique('vol')
    first = client.volumes.create(name)
    again = client.volumes.create(name)
    assert again.attrs['CreatedAt'] == first.attrs['CreatedAt']


def test_create_without_name_is_anonymous(client):
    vol = client.volumes.create()
    assert len(vol.name) == 64


def test_get_missing_is_not_found(any_client):
    with pytest.raises(docker.errors.NotFound) as e:
        any_client.volumes.get('compat-missing')
    assert e.value.status_code == 404
    assert 'no such volume' in str(e.value)


def test_list_filters(client):
    label = unique('label')
    used = client.volumes.create(unique('vol'), labels={label: 'used'})
    free = client.volumes.create(unique('vol'), labels={label: 'free'})
    client.containers.create(IMAGE, 'true', volumes=[f'{used.name}:/data'])
    assert {v.name for v in client.volumes.list(filters={'label': label})} == {used.name, free.name}
    assert [v.name for v in client.volumes.list(filters={'label': f'{label}=free'})] == [free.name]
    assert [v.name for v in client.volumes.list(filters={'name': free.name})] == [free.name]
    assert free.name in [v.name for v in client.volumes.list(filters={'driver': 'local'})]
    dangling = [v.name for v in client.volumes.list(filters={'dangling': True})]
    assert free.name in dangling and used.name not in dangling
    in_use = [v.name for v in client.volumes.list(filters={'dangling': False})]
    assert used.name in in_use and free.name not in in_use


def test_list_bad_filter_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.volumes.list(filters={'bogus': 'x'})
    assert e.value.status_code == 400
    assert "invalid filter 'bogus'" in str(e.value)


def test_list_bad_dangling_value_is_bad_request(client):
    with pytest.raises(docker.errors.APIError) as e:
        client.volumes.list(filters={'dangling': 'maybe'})
    assert e.value.status_code == 400


def test_remove(client):
    vol = client.volumes.create(unique('vol'))
    vol.remove()
    with pytest.raises(docker.errors.NotFound):
        client.volumes.get(vol.name)


def test_remove_in_use_conflicts(any_client):
    vol = any_client.volumes.create(unique('vol'))
    ctr = any_client.containers.create(IMAGE, 'true', volumes=[f'{vol.name}:/data'])
    with pytest.raises(docker.errors.APIError) as e:
        vol.remove()
    assert e.value.status_code == 409
    assert 'volume is in use' in str(e.value)
    assert ctr.id in str(e.value)


def test_remove_missing_is_not_found_unless_forced(client):
    with pytest.raises(docker.errors.NotFound):
        client.api.remove_volume('compat-missing')
    # docker-py 5 hands force to _url, which drops it: against dockerd too, the call
    # goes out without it and fails. The request it meant answers 204, as dockerd's.
    with pytest.raises(docker.errors.NotFound):
        client.api.remove_volume('compat-missing', force=True)
    resp = client.api._delete(client.api._url('/volumes/{0}', 'compat-missing'), params={'force': True})
    assert resp.status_code == 204


def test_prune_since_1_42_only_anonymous_volumes(client):
    named = client.volumes.create(unique('vol'))
    anon = anonymous_volume_container(client)
    anon_name = anon.attrs['Mounts'][0]['Name']
    anon.remove()
    result = client.volumes.prune()
    assert result['VolumesDeleted'] == [anon_name]
    assert isinstance(result['SpaceReclaimed'], int)
    assert client.volumes.get(named.name)


def test_prune_all_filter(client):
    named = client.volumes.create(unique('vol'))
    result = client.volumes.prune(filters={'all': 'true'})
    assert named.name in result['VolumesDeleted']


def test_prune_before_1_42_removes_named_volumes(client141):
    named = client141.volumes.create(unique('vol'))
    used = client141.volumes.create(unique('vol'))
    client141.containers.create(IMAGE, 'true', volumes=[f'{used.name}:/data'])
    result = client141.volumes.prune()
    assert result['VolumesDeleted'] == [named.name]
    assert client141.volumes.get(used.name)


def test_prune_with_label_filter(client):
    keep = client.volumes.create(unique('vol'), labels={'keep': '1'})
    drop = client.volumes.create(unique('vol'))
    result = client.volumes.prune(filters={'all': 'true', 'label!': 'keep'})
    assert result['VolumesDeleted'] == [drop.name]
    assert client.volumes.get(keep.name)


def test_anonymous_volume_of_a_container(client):
    ctr = anonymous_volume_container(client)
    [mount] = ctr.attrs['Mounts']
    assert mount['Type'] == 'volume' and mount['Destination'] == '/anon'
    vol = client.volumes.get(mount['Name'])
    assert vol.attrs['Labels'] == {'com.docker.volume.anonymous': ''}
