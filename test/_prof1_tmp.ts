import { readFileSync } from 'fs';
import { parseBtf } from '../src/btf';
const vb = readFileSync('/sys/kernel/btf/vmlinux');
const c0 = process.cpuUsage(); const t1 = performance.now(); const b = parseBtf(vb); const c1 = process.cpuUsage(c0);
console.log('parse wall', (performance.now() - t1).toFixed(0), 'cpu user+sys', ((c1.user + c1.system)/1000).toFixed(0));
