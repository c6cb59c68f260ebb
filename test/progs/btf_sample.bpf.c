/* SPDX-License-Identifier: MIT */
/*
 * Test input for src/btf (test/btf.test.ts): structs whose BTF layout the
 * tests compare with gcc's offsetof, plus const volatile globals for the
 * .rodata image. Self-contained (no kernel or libbpf headers), so that gcc can
 * #include it too.
 *
 * The committed fixtures/btf_sample.bpf.o is built from the repository root with:
 *   clang -O2 -g -target bpf -fdebug-prefix-map=$PWD=. \
 *     -c test/progs/btf_sample.bpf.c -o fixtures/btf_sample.bpf.o
 */

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef signed short __s16;
typedef unsigned int __u32;
typedef signed int __s32;
typedef unsigned long long __u64;
typedef signed long long __s64;

enum sample_kind {
	SAMPLE_A = 1,
	SAMPLE_B = 2,
	SAMPLE_BIG = 0x7fffffff,
};

struct sample_hdr {
	__u16 type;
	__u16 flags;
	__u32 size;
	__u64 ts_ns;
};

struct sample_inner {
	__s32 delta;
	char name[8];
	__u8 raw[3];
	__s8 small;
	__s16 mid;
	/* 2 bytes of implicit padding: BTF shows the gap, the layout has no field there */
	__u64 big;
};

union sample_union {
	__u32 word;
	__u8 bytes[6];
};

typedef struct sample_inner sample_inner_t;

/* A record: nested structs, arrays, chars, signed/unsigned ints, a flexible tail. */
struct sample_rec {
	struct sample_hdr hdr;
	const volatile sample_inner_t inner;
	__u32 ids[4];
	__s64 matrix[2][3];
	union sample_union both;
	double ratio;
	enum sample_kind kind;
	char c;
	unsigned char uc;
	signed char sc;
	void *ptr;
	struct sample_hdr hdrs[2];
	__u32 tail_len;
	__u8 tail[];
};

/* C11 anonymous struct: its members appear at the outer level. */
struct sample_anon {
	struct {
		__u32 x;
		__u32 y;
	};
	__u64 z;
};

/* Bitfields are parsed, but record layouts refuse them. */
struct sample_bits {
	__u32 a : 3;
	__u32 b : 5;
	__s32 c : 24;
	__u32 d;
};

/* Options, rewritten by rodataImage() before load. */
const volatile __u32 max_args = 128;
const volatile __s32 min_delta = -7;
const volatile __u64 big_limit = 0x1122334455667788ULL;
const volatile __s64 neg_limit = -2;
const volatile __u8 verbose;
const volatile __s8 tiny = -1;
const volatile __u16 port = 8080;
const volatile _Bool enabled = 1;
const volatile enum sample_kind default_kind = SAMPLE_B;
const volatile char prefix[4] = "ab";
const __u32 folded = 5; /* not volatile: clang may fold it into the code */

/* Keep every type in the object's BTF. */
struct sample_rec sample_rec_var;
struct sample_anon sample_anon_var;
struct sample_bits sample_bits_var;

__attribute__((section("tp/sample"), used))
int sample_prog(void *ctx)
{
	return max_args + min_delta + port + folded;
}

char LICENSE[] __attribute__((section("license"), used)) = "Dual MIT/GPL";
