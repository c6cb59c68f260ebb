// Which container a task runs in, read from its cgroup v2 path alone: the container
// runtimes name the cgroup they create for a container after its id. Pure string work, no
// file access, so a trace decodes to the same container ids on any machine.
//
// The layouts recognised, one path component each (ids are 64 lowercase hex characters):
//   docker      docker-<id>.scope (systemd cgroup driver, also under kubepods via cri-dockerd),
//               <id> directly under a `docker` component (cgroupfs driver: /docker/<id>)
//   containerd  cri-containerd-<id>.scope (CRI with the systemd driver: kubepods-…-pod<uid>.slice/…)
//   cri-o       crio-<id>.scope, or crio-<id> (cgroupfs driver)
//   podman      libpod-<id>.scope (systemd), libpod-<id> (cgroupfs: /libpod_parent/libpod-<id>)
//   cri         <id> directly under a pod<uid> component below `kubepods` (Kubernetes with
//               the cgroupfs driver: /kubepods/burstable/pod<uid>/<id>); the path does not
//               say which CRI runtime made it
//
// The innermost container in the path wins: in docker-in-docker, kind (Kubernetes nodes
// that are themselves docker containers) or podman-in-podman, a task belongs to the
// container nearest to it. Components below a container's own cgroup (podman's
// `libpod-<id>.scope/container`, a systemd `init.scope` inside a container) belong to it.
//
// Monitors are not containers: crio-conmon-<id>.scope and libpod-conmon-<id>.scope hold
// conmon, which runs on the host side (the host's namespaces, outside the container's
// cgroup and its limits) to watch the container and collect its exit status. Its activity
// is the runtime's, not the container's, so such a path gives null — unless the monitor is
// itself inside an outer container, which the rule above then finds. The id is still in
// the `cgroup` path for anyone who wants to tie the monitor to its container.

/** A container found in a cgroup path: the runtime that named the cgroup, and the container's id. */
export interface ContainerRef {
  runtime: 'docker' | 'containerd' | 'cri-o' | 'podman' | 'cri';
  /** 64 lowercase hex characters, as `docker ps --no-trunc`, `crictl ps` and `podman ps --no-trunc` show it. */
  id: string;
}

const ID = /^[0-9a-f]{64}$/;

/** Named components: runtime prefix, then the id, then an optional `.scope`. */
const NAMED: {re: RegExp; runtime: ContainerRef['runtime']}[] = [
  {re: /^docker-([0-9a-f]{64})\.scope$/, runtime: 'docker'},
  {re: /^cri-containerd-([0-9a-f]{64})\.scope$/, runtime: 'containerd'},
  {re: /^crio-([0-9a-f]{64})(?:\.scope)?$/, runtime: 'cri-o'},
  {re: /^libpod-([0-9a-f]{64})(?:\.scope)?$/, runtime: 'podman'},
];

/** A Kubernetes pod's cgroup with the cgroupfs driver: pod<uid>, the uid with dashes (or underscores). */
const POD = /^pod[0-9a-f][0-9a-f_-]*$/;

/**
 * containerOf returns the innermost container a cgroup v2 path names (`/system.slice/
 * docker-<id>.scope` → docker, that id), or null for a path in no container: user
 * sessions, system services, init.scope, the root, conmon monitors (see above), an empty
 * string. A whole /proc/PID/cgroup line (`0::/…`) is read as its path. Never throws.
 */
export function containerOf(cgroupPath: string): ContainerRef | null {
  const path = /^\d+:[^:]*:/.test(cgroupPath) ? cgroupPath.slice(cgroupPath.indexOf(':', cgroupPath.indexOf(':') + 1) + 1) : cgroupPath;
  const parts = path.split('/').filter((p) => p !== '');
  for (let i = parts.length - 1; i >= 0; i--) {
    const c = parts[i];
    for (const n of NAMED) {
      const m = n.re.exec(c);
      if (m) return {runtime: n.runtime, id: m[1]};
    }
    if (!ID.test(c) || i === 0) continue;
    const parent = parts[i - 1];
    if (parent === 'docker') return {runtime: 'docker', id: c};
    if (POD.test(parent) && parts.slice(0, i - 1).includes('kubepods')) return {runtime: 'cri', id: c};
  }
  return null;
}

const seen = new Map<string, string | null>();

/** The container id of a cgroup path, or null: containerOf's id, remembered per path. */
export function containerIdOf(cgroupPath: string): string | null {
  let id = seen.get(cgroupPath);
  if (id === undefined) {
    id = containerOf(cgroupPath)?.id ?? null;
    if (seen.size >= 4096) seen.clear();
    seen.set(cgroupPath, id);
  }
  return id;
}
