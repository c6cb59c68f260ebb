import { readFileSync } from 'fs';
import { parseBtf } from '../src/btf';
const vb = readFileSync('/sys/kernel/btf/vmlinux');
const r = [];
for (let i = 0; i < 3; i++) { const t1 = performance.now(); parseBtf(vb); r.push((performance.now() - t1).toFixed(0)); }
console.log(r.join(' '));
