/*
 * libpcap's BPF compiler and interpreter, exposed to Node. node_pcap has no standalone compile API, and the
 * flow engine must filter the raw bytes of records it reads itself (pcap files, AF_PACKET rings), so this addon
 * compiles an expression for a link type and snaplen with pcap_open_dead and runs bpf_filter on a Buffer in place.
 * It also hands the compiled program itself to JavaScript (src/flow/bpf.ts translates it into a function, so
 * that filtering a packet costs no native call).
 */
#include <node_api.h>
#include <pcap/pcap.h>
#include <stdlib.h>
#include <string.h>

#define MAX_EXPR 65536

typedef struct {
  struct bpf_program prog;
} bpf_handle;

static napi_value throw_error(napi_env env, const char *code, const char *msg) {
  napi_throw_error(env, code, msg);
  return NULL;
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  bpf_handle *h = (bpf_handle *)data;
  pcap_freecode(&h->prog);
  free(h);
}

/*
 * Compiles argv[0..2] (expr, linkType, snaplen) into prog. Returns 0, or throws a JS error and returns -1.
 * The error of an invalid expression has code SKYDIVE_BPF_INVALID and libpcap's message.
 */
static int compile_args(napi_env env, napi_callback_info info, struct bpf_program *prog) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3) {
    throw_error(env, "SKYDIVE_BPF_ARGS", "expects (expr, linkType, snaplen)");
    return -1;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    throw_error(env, "SKYDIVE_BPF_ARGS", "the expression must be a string");
    return -1;
  }
  if (len > MAX_EXPR) {
    throw_error(env, "SKYDIVE_BPF_ARGS", "the expression is too long");
    return -1;
  }
  int32_t link_type = 0, snaplen = 0;
  if (napi_get_value_int32(env, argv[1], &link_type) != napi_ok || napi_get_value_int32(env, argv[2], &snaplen) != napi_ok ||
      snaplen <= 0) {
    throw_error(env, "SKYDIVE_BPF_ARGS", "linkType and snaplen must be integers, snaplen > 0");
    return -1;
  }
  char *expr = malloc(len + 1);
  if (!expr) {
    throw_error(env, "SKYDIVE_BPF_NOMEM", "out of memory");
    return -1;
  }
  napi_get_value_string_utf8(env, argv[0], expr, len + 1, &len);
  pcap_t *p = pcap_open_dead(link_type, snaplen);
  if (!p) {
    free(expr);
    throw_error(env, "SKYDIVE_BPF_NOMEM", "pcap_open_dead failed");
    return -1;
  }
  int rc = pcap_compile(p, prog, expr, 1, PCAP_NETMASK_UNKNOWN);
  free(expr);
  if (rc != 0) {
    char msg[PCAP_ERRBUF_SIZE + 1];
    strncpy(msg, pcap_geterr(p), PCAP_ERRBUF_SIZE);
    msg[PCAP_ERRBUF_SIZE] = 0;
    pcap_close(p);
    throw_error(env, "SKYDIVE_BPF_INVALID", msg);
    return -1;
  }
  pcap_close(p);
  return 0;
}

/* bpfCompile(expr: string, linkType: number, snaplen: number): handle (an external freed by the GC) */
static napi_value bpf_compile(napi_env env, napi_callback_info info) {
  bpf_handle *h = calloc(1, sizeof(*h));
  if (!h) return throw_error(env, "SKYDIVE_BPF_NOMEM", "out of memory");
  if (compile_args(env, info, &h->prog) != 0) {
    free(h);
    return NULL;
  }
  napi_value ext;
  if (napi_create_external(env, h, handle_finalize, NULL, &ext) != napi_ok) {
    handle_finalize(env, h, NULL);
    return throw_error(env, "SKYDIVE_BPF_NOMEM", "napi_create_external failed");
  }
  return ext;
}

/*
 * bpfProgram(expr: string, linkType: number, snaplen: number): Uint32Array of [code, jt, jf, k] per instruction,
 * the compiled program itself, for a JavaScript translation that runs without a native call per packet.
 */
static napi_value bpf_program(napi_env env, napi_callback_info info) {
  struct bpf_program prog;
  if (compile_args(env, info, &prog) != 0) return NULL;
  void *data = NULL;
  napi_value ab, arr;
  size_t n = prog.bf_len;
  if (napi_create_arraybuffer(env, n * 4 * sizeof(uint32_t), &data, &ab) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, n * 4, ab, 0, &arr) != napi_ok) {
    pcap_freecode(&prog);
    return throw_error(env, "SKYDIVE_BPF_NOMEM", "cannot allocate the program array");
  }
  uint32_t *out = data;
  for (size_t i = 0; i < n; i++) {
    out[4 * i] = prog.bf_insns[i].code;
    out[4 * i + 1] = prog.bf_insns[i].jt;
    out[4 * i + 2] = prog.bf_insns[i].jf;
    out[4 * i + 3] = prog.bf_insns[i].k;
  }
  pcap_freecode(&prog);
  return arr;
}

/* bpfMatch(handle, buf: Uint8Array, offset: number, caplen: number, wireLen: number): boolean */
static napi_value bpf_match(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 5)
    return throw_error(env, "SKYDIVE_BPF_ARGS", "bpfMatch(handle, buf, offset, caplen, wireLen) expects 5 arguments");

  bpf_handle *h = NULL;
  if (napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !h)
    return throw_error(env, "SKYDIVE_BPF_ARGS", "bpfMatch: invalid handle");

  napi_typedarray_type type;
  size_t length = 0, byte_offset = 0;
  void *data = NULL;
  napi_value arraybuffer;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &arraybuffer, &byte_offset) != napi_ok ||
      type != napi_uint8_array)
    return throw_error(env, "SKYDIVE_BPF_ARGS", "bpfMatch: buf must be a Uint8Array");

  int64_t offset = 0, caplen = 0, wire_len = 0;
  napi_get_value_int64(env, argv[2], &offset);
  napi_get_value_int64(env, argv[3], &caplen);
  napi_get_value_int64(env, argv[4], &wire_len);
  if (offset < 0 || caplen < 0 || (uint64_t)offset + (uint64_t)caplen > length)
    return throw_error(env, "SKYDIVE_BPF_ARGS", "bpfMatch: offset/caplen outside the buffer");
  if (wire_len < caplen) wire_len = caplen;

  /* bpf_filter never reads past buflen (caplen): out-of-range loads make the program return 0. */
  u_int r = bpf_filter(h->prog.bf_insns, (const u_char *)data + offset, (u_int)wire_len, (u_int)caplen);
  napi_value result;
  napi_get_boolean(env, r != 0, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bpfCompile", NULL, bpf_compile, NULL, NULL, NULL, napi_default, NULL},
      {"bpfMatch", NULL, bpf_match, NULL, NULL, NULL, napi_default, NULL},
      {"bpfProgram", NULL, bpf_program, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
