// containerOf (src/decode/container.ts): the container id in a cgroup v2 path as
// /proc/PID/cgroup shows it, for the layouts docker, containerd/CRI, cri-o and podman
// create with the systemd and the cgroupfs cgroup drivers, rootful and rootless, nested;
// null for everything that is not a container (sessions, services, conmon monitors).

import t from 'tap';
import {containerOf} from '../src/decode/container';

// Ids as the runtimes print them: 64 lowercase hex characters.
const A = '3f4e1c2b9a8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f';
const B = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef';
const C = '9d1c4b7e2a0f8e6d5c3b1a09f8e7d6c5b4a392817f6e5d4c3b2a1908f7e6d5c4';
// Pod uids: dashes with the cgroupfs driver, underscores in systemd slice names.
const POD = '8b2f9a52-7c1d-4e7a-9f3b-2d6c1e0a4b5c';
const POD_ = POD.replace(/-/g, '_');

t.test('docker: systemd driver (docker-<id>.scope) and cgroupfs driver (/docker/<id>)', async (t) => {
  t.same(containerOf(`/system.slice/docker-${A}.scope`), {runtime: 'docker', id: A});
  t.same(containerOf(`/docker/${A}`), {runtime: 'docker', id: A});
  // A custom --cgroup-parent with the systemd driver.
  t.same(containerOf(`/myapps.slice/docker-${A}.scope`), {runtime: 'docker', id: A});
  // systemd running inside the container (its own cgroup namespace below the scope).
  t.same(containerOf(`/system.slice/docker-${A}.scope/init.scope`), {runtime: 'docker', id: A});
  t.same(containerOf(`/system.slice/docker-${A}.scope/system.slice/nginx.service`), {runtime: 'docker', id: A});
  // Rootless docker (dockerd in the user's systemd instance).
  t.same(containerOf(`/user.slice/user-1000.slice/user@1000.service/user.slice/docker-${A}.scope`), {runtime: 'docker', id: A});
  // A whole /proc/PID/cgroup line.
  t.same(containerOf(`0::/system.slice/docker-${A}.scope`), {runtime: 'docker', id: A});
});

t.test('the innermost container wins: docker in docker', async (t) => {
  t.same(containerOf(`/system.slice/docker-${A}.scope/docker/${B}`), {runtime: 'docker', id: B});
  t.same(containerOf(`/docker/${A}/docker/${B}`), {runtime: 'docker', id: B});
  // The inner dockerd itself runs in the outer container only.
  t.same(containerOf(`/system.slice/docker-${A}.scope/system.slice/docker.service`), {runtime: 'docker', id: A});
});

t.test('Kubernetes: containerd with the systemd driver, each QoS class', async (t) => {
  t.same(containerOf(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice/cri-containerd-${A}.scope`),
    {runtime: 'containerd', id: A});
  t.same(containerOf(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/cri-containerd-${B}.scope`),
    {runtime: 'containerd', id: B});
  // Guaranteed pods sit directly under kubepods.slice.
  t.same(containerOf(`/kubepods.slice/kubepods-pod${POD_}.slice/cri-containerd-${A}.scope`), {runtime: 'containerd', id: A});
  // The pod's own slice, and kubepods itself, are no container.
  t.equal(containerOf(`/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${POD_}.slice`), null);
  t.equal(containerOf('/kubepods.slice'), null);
  // cri-dockerd (docker as the CRI runtime) names its scopes as docker does.
  t.same(containerOf(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/docker-${A}.scope`),
    {runtime: 'docker', id: A});
});

t.test('Kubernetes with the cgroupfs driver: <id> under pod<uid> under kubepods', async (t) => {
  t.same(containerOf(`/kubepods/besteffort/pod${POD}/${A}`), {runtime: 'cri', id: A});
  t.same(containerOf(`/kubepods/burstable/pod${POD}/${B}`), {runtime: 'cri', id: B});
  t.same(containerOf(`/kubepods/pod${POD}/${A}`), {runtime: 'cri', id: A}, 'a guaranteed pod');
  t.equal(containerOf(`/kubepods/burstable/pod${POD}`), null, 'the pod is not a container');
  // cri-o with cgroupfs names the container's cgroup crio-<id>.
  t.same(containerOf(`/kubepods/burstable/pod${POD}/crio-${A}`), {runtime: 'cri-o', id: A});
});

t.test('kind: a pod container inside a node that is a docker container', async (t) => {
  const node = `/system.slice/docker-${A}.scope`;
  t.same(containerOf(`${node}/kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-besteffort.slice/` +
    `kubelet-kubepods-besteffort-pod${POD_}.slice/cri-containerd-${B}.scope`), {runtime: 'containerd', id: B});
  // The node's kubelet and containerd belong to the node's container.
  t.same(containerOf(`${node}/system.slice/kubelet.service`), {runtime: 'docker', id: A});
  t.same(containerOf(`${node}/system.slice/containerd.service`), {runtime: 'docker', id: A});
  // With the cgroupfs driver inside the node (kubepods under the node's cgroup).
  t.same(containerOf(`/docker/${A}/kubelet/kubepods/burstable/pod${POD}/${B}`), {runtime: 'cri', id: B});
});

t.test('cri-o: crio-<id>.scope is the container, crio-conmon-<id>.scope its monitor', async (t) => {
  t.same(containerOf(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-${A}.scope`), {runtime: 'cri-o', id: A});
  // conmon runs on the host side: its activity is not the container's.
  t.equal(containerOf(`/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${POD_}.slice/crio-conmon-${A}.scope`), null);
  t.equal(containerOf(`/kubepods/burstable/pod${POD}/crio-conmon-${A}`), null);
  t.equal(containerOf('/system.slice/crio.service'), null, 'the daemon');
});

t.test('podman: rootful, rootless, nested, pods, cgroupfs; conmon is no container', async (t) => {
  t.same(containerOf(`/machine.slice/libpod-${A}.scope`), {runtime: 'podman', id: A});
  // A container whose payload podman moves one level down (systemd containers, --cgroups=split).
  t.same(containerOf(`/machine.slice/libpod-${A}.scope/container`), {runtime: 'podman', id: A});
  t.same(containerOf(`/machine.slice/libpod-${A}.scope/container/init.scope`), {runtime: 'podman', id: A});
  // Rootless: under the user's systemd instance.
  t.same(containerOf(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${A}.scope`), {runtime: 'podman', id: A});
  t.same(containerOf(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-${B}.scope/container`), {runtime: 'podman', id: B});
  // A container of a pod: the pod is a slice.
  t.same(containerOf(`/machine.slice/machine-libpod_pod_${C}.slice/libpod-${A}.scope`), {runtime: 'podman', id: A});
  t.equal(containerOf(`/machine.slice/machine-libpod_pod_${C}.slice`), null, 'the pod is not a container');
  // The cgroupfs manager.
  t.same(containerOf(`/libpod_parent/libpod-${A}`), {runtime: 'podman', id: A});
  // conmon, rootful and rootless.
  t.equal(containerOf(`/machine.slice/libpod-conmon-${A}.scope`), null);
  t.equal(containerOf(`/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-conmon-${A}.scope`), null);
  t.equal(containerOf('/libpod_parent/conmon'), null);
  // The monitor of a container inside another container belongs to the outer one.
  t.same(containerOf(`/machine.slice/libpod-${A}.scope/container/machine.slice/libpod-conmon-${B}.scope`), {runtime: 'podman', id: A});
  t.same(containerOf(`/machine.slice/libpod-${A}.scope/container/machine.slice/libpod-${B}.scope`), {runtime: 'podman', id: B});
});

t.test('no container: the root, init, sessions, services, user managers, machines', async (t) => {
  for (const p of [
    '', '/', '0::/', '/init.scope',
    '/user.slice/user-1000.slice/session-3.scope',
    '/user.slice/user-1000.slice/user@1000.service/app.slice/gnome-terminal-server.service',
    '/user.slice/user-1000.slice/user@1000.service/init.scope',
    '/system.slice/docker.service', '/system.slice/containerd.service', '/system.slice/sshd.service',
    '/system.slice/docker.socket', '/system.slice/systemd-journald.service',
    '/machine.slice/systemd-nspawn@debian.service', '/machine.slice/machine-qemu\\x2d1\\x2dvm.scope',
    '/sys/fs/cgroup/app', '/app', '/kubepods', '/docker',
  ]) t.equal(containerOf(p), null, JSON.stringify(p));
});

t.test('what is not an id is not taken for one', async (t) => {
  t.equal(containerOf(`/system.slice/docker-${A.toUpperCase()}.scope`), null, 'upper case');
  t.equal(containerOf(`/system.slice/docker-${A.slice(1)}.scope`), null, '63 characters');
  t.equal(containerOf(`/system.slice/docker-${A}0.scope`), null, '65 characters');
  t.equal(containerOf(`/system.slice/docker-${A.slice(0, 12)}.scope`), null, 'a short id');
  t.equal(containerOf(`/system.slice/docker-${A}.scope.bak`), null);
  t.equal(containerOf(`/system.slice/docker-${A}.service`), null);
  t.equal(containerOf(`/system.slice/docker-${A.slice(0, 63)}g.scope`), null, 'not hex');
  // A bare id says nothing without the parent that tells whose it is.
  t.equal(containerOf(`/${A}`), null);
  t.equal(containerOf(`/system.slice/${A}`), null);
  t.equal(containerOf(`/something/pod${POD}/${A}`), null, 'pod<uid> outside kubepods');
  t.equal(containerOf(`/kubepods/burstable/${A}`), null, 'not under a pod');
});
