/*
 * libpcap exposed to Node, for two jobs.
 *
 * BPF: node_pcap has no standalone compile API, and the flow engine must filter the raw bytes of records it reads
 * itself (pcap files, sFlow samples), so this addon compiles an expression for a link type and snaplen with
 * pcap_open_dead and runs bpf_filter on a Buffer in place. It also hands the compiled program itself to JavaScript
 * (src/flow/bpf.ts translates it into a function, so that filtering a packet costs no native call).
 *
 * Live capture: node_pcap makes one C++ → JS call per packet and dispatches a whole burst without yielding. Here
 * captureNext copies a batch of packets into one caller-owned Buffer as packed records, so that JavaScript pays
 * one native call per batch and decides itself when to yield to its timers and IPC between batches; captureWait
 * arms a libuv poll on the capture socket for when the ring is empty, so that an idle capture costs nothing and
 * never blocks the event loop.
 */
#include <node_api.h>
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

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

/* ---------------------------------------------------------------------------------------------------------------
 * Live capture
 * ------------------------------------------------------------------------------------------------------------- */

/* Each record captureNext writes: tsSec, tsUsec, caplen, wireLen (host-order u32), then caplen bytes padded to 4. */
#define RECORD_HEADER 16
#define PAD4(n) (((n) + 3u) & ~3u)
#define MAX_SNAPLEN 262144

typedef struct {
  pcap_t *p;
  napi_env env;
  uint32_t snaplen;
  /* allocated apart: libuv owns it until its close callback, which may run after the handle is gone */
  uv_poll_t *poll;
  napi_ref wait_cb;
  napi_async_context async_ctx;
  /* the batch being filled by the pcap_dispatch callback */
  uint8_t *out;
  size_t out_len, used;
  uint32_t count;
} capture_handle;

static void poll_closed(uv_handle_t *h) { free(h); }

/* Stops the poll, closes the pcap handle; idempotent. The JS wait callback, if armed, is dropped uncalled. */
static void capture_release(capture_handle *h) {
  if (h->poll) {
    uv_poll_stop(h->poll);
    uv_close((uv_handle_t *)h->poll, poll_closed);
    h->poll = NULL;
  }
  if (h->wait_cb) {
    napi_delete_reference(h->env, h->wait_cb);
    h->wait_cb = NULL;
  }
  if (h->async_ctx) {
    napi_async_destroy(h->env, h->async_ctx);
    h->async_ctx = NULL;
  }
  if (h->p) {
    pcap_close(h->p);
    h->p = NULL;
  }
}

static void capture_finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  capture_release((capture_handle *)data);
  free(data);
}

/* "<what>: <libpcap status>" or "<what>: <libpcap message>", whichever says more. */
static napi_value throw_pcap(napi_env env, const char *code, const char *what, pcap_t *p, int status) {
  char msg[PCAP_ERRBUF_SIZE + 512];
  const char *detail = p ? pcap_geterr(p) : "";
  const char *st = pcap_statustostr(status);
  if (detail && *detail && status != PCAP_ERROR && strcmp(detail, st) != 0)
    snprintf(msg, sizeof(msg), "%s: %s (%s)", what, st, detail);
  else if (detail && *detail)
    snprintf(msg, sizeof(msg), "%s: %s", what, detail);
  else
    snprintf(msg, sizeof(msg), "%s: %s", what, st);
  return throw_error(env, code, msg);
}

static int opt_prop(napi_env env, napi_value obj, const char *name, napi_valuetype want, napi_value *out) {
  bool has = false;
  if (napi_has_named_property(env, obj, name, &has) != napi_ok || !has) return 0;
  napi_valuetype t;
  if (napi_get_named_property(env, obj, name, out) != napi_ok || napi_typeof(env, *out, &t) != napi_ok) return -1;
  if (t == napi_undefined) return 0;
  return t == want ? 1 : -1;
}

/* Reads an optional integer option in [min, max]; 0 when absent, -1 (JS error thrown) when invalid. */
static int opt_int(napi_env env, napi_value obj, const char *name, int64_t min, int64_t max, int64_t *value) {
  napi_value v;
  int r = opt_prop(env, obj, name, napi_number, &v);
  if (r == 1 && napi_get_value_int64(env, v, value) == napi_ok && *value >= min && *value <= max) return 1;
  if (r == 0) return 0;
  char msg[160];
  snprintf(msg, sizeof(msg), "captureOpen: option %s must be an integer from %lld to %lld", name, (long long)min, (long long)max);
  throw_error(env, "SKYDIVE_CAPTURE_ARGS", msg);
  return -1;
}

static int opt_bool(napi_env env, napi_value obj, const char *name, bool *value) {
  napi_value v;
  int r = opt_prop(env, obj, name, napi_boolean, &v);
  if (r == 1 && napi_get_value_bool(env, v, value) == napi_ok) return 1;
  if (r == 0) return 0;
  char msg[120];
  snprintf(msg, sizeof(msg), "captureOpen: option %s must be a boolean", name);
  throw_error(env, "SKYDIVE_CAPTURE_ARGS", msg);
  return -1;
}

/* A JS string as a malloc'ed C string (NULL and a JS error when it is not a string or too long). */
static char *string_arg(napi_env env, napi_value v, const char *what) {
  size_t len = 0;
  if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok || len > MAX_EXPR) {
    char msg[120];
    snprintf(msg, sizeof(msg), "%s must be a string of at most %d bytes", what, MAX_EXPR);
    throw_error(env, "SKYDIVE_CAPTURE_ARGS", msg);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) {
    throw_error(env, "SKYDIVE_CAPTURE_NOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, v, s, len + 1, &len);
  return s;
}

/* LINKTYPE_* (what files and the flow table use) of a DLT_* (what libpcap reports), where they differ. */
static int dlt_to_linktype(int dlt) {
  switch (dlt) {
    case 11: return 100; /* DLT_ATM_RFC1483 */
    case 12: /* DLT_RAW (most platforms) */
    case 14: return 101; /* DLT_RAW (OpenBSD) */
    default: return dlt;
  }
}

static napi_value set_number(napi_env env, napi_value obj, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  napi_set_named_property(env, obj, name, v);
  return obj;
}

/*
 * captureOpen(ifName: string, opts?: {snaplen?, bufferSize?, promisc?, timeoutMs?, immediate?, filter?})
 *   → { handle, linkType, snaplen, warning? }
 * Activates a libpcap capture (AF_PACKET with a TPACKET_V3 ring on Linux, V2 in immediate mode), attaches the
 * filter to the socket so that the kernel applies it, and puts the handle in non-blocking mode (captureWait waits).
 */
static napi_value capture_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureOpen(ifName, opts) expects an interface name");
  int64_t snaplen = MAX_SNAPLEN, buffer_size = 32 << 20, timeout_ms = 100;
  bool promisc = true, immediate = false;
  char *filter = NULL;
  napi_valuetype t = napi_undefined;
  if (argc >= 2) napi_typeof(env, argv[1], &t);
  if (t == napi_object) {
    napi_value f;
    int r;
    if (opt_int(env, argv[1], "snaplen", 1, MAX_SNAPLEN, &snaplen) < 0 ||
        opt_int(env, argv[1], "bufferSize", 0, INT32_MAX, &buffer_size) < 0 ||
        opt_int(env, argv[1], "timeoutMs", 0, 3600000, &timeout_ms) < 0 || opt_bool(env, argv[1], "promisc", &promisc) < 0 ||
        opt_bool(env, argv[1], "immediate", &immediate) < 0)
      return NULL;
    if ((r = opt_prop(env, argv[1], "filter", napi_string, &f)) < 0)
      return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureOpen: option filter must be a string");
    if (r == 1 && !(filter = string_arg(env, f, "captureOpen: option filter"))) return NULL;
  } else if (t != napi_undefined) {
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureOpen: opts must be an object");
  }
  char *ifname = string_arg(env, argv[0], "captureOpen: the interface name");
  if (!ifname) {
    free(filter);
    return NULL;
  }
  char what[PCAP_ERRBUF_SIZE + 64];
  snprintf(what, sizeof(what), "cannot capture on %s", ifname);
  char errbuf[PCAP_ERRBUF_SIZE] = "";
  pcap_t *p = pcap_create(ifname, errbuf);
  free(ifname);
  if (!p) {
    free(filter);
    char msg[sizeof(what) + PCAP_ERRBUF_SIZE + 2];
    snprintf(msg, sizeof(msg), "%s: %s", what, errbuf);
    return throw_error(env, "SKYDIVE_CAPTURE_OPEN", msg);
  }
  pcap_set_snaplen(p, (int)snaplen);
  if (buffer_size > 0) pcap_set_buffer_size(p, (int)buffer_size);
  pcap_set_promisc(p, promisc);
  pcap_set_timeout(p, (int)timeout_ms);
  pcap_set_immediate_mode(p, immediate);
  int status = pcap_activate(p);
  if (status < 0) {
    free(filter);
    throw_pcap(env, "SKYDIVE_CAPTURE_OPEN", what, p, status);
    pcap_close(p);
    return NULL;
  }
  char warning[PCAP_ERRBUF_SIZE + 64] = "";
  if (status > 0) snprintf(warning, sizeof(warning), "%s (%s)", pcap_statustostr(status), pcap_geterr(p));

  if (filter && *filter) {
    struct bpf_program prog;
    if (pcap_compile(p, &prog, filter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
      char msg[sizeof(what) + PCAP_ERRBUF_SIZE + 256];
      snprintf(msg, sizeof(msg), "%s: invalid filter \"%.200s%s\": %s", what, filter, strlen(filter) > 200 ? "..." : "", pcap_geterr(p));
      free(filter);
      pcap_close(p);
      return throw_error(env, "SKYDIVE_CAPTURE_FILTER", msg);
    }
    int rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) {
      free(filter);
      throw_pcap(env, "SKYDIVE_CAPTURE_FILTER", "cannot attach the capture filter", p, PCAP_ERROR);
      pcap_close(p);
      return NULL;
    }
  }
  free(filter);
  if (pcap_setnonblock(p, 1, errbuf) != 0 || pcap_get_selectable_fd(p) < 0) {
    char msg[sizeof(what) + PCAP_ERRBUF_SIZE + 2];
    snprintf(msg, sizeof(msg), "%s: %s", what, *errbuf ? errbuf : "no selectable descriptor");
    pcap_close(p);
    return throw_error(env, "SKYDIVE_CAPTURE_OPEN", msg);
  }

  capture_handle *h = calloc(1, sizeof(*h));
  napi_value ext, result, name;
  if (!h) {
    pcap_close(p);
    return throw_error(env, "SKYDIVE_CAPTURE_NOMEM", "out of memory");
  }
  h->p = p;
  h->env = env;
  h->snaplen = (uint32_t)pcap_snapshot(p);
  if (napi_create_external(env, h, capture_finalize, NULL, &ext) != napi_ok) {
    capture_finalize(env, h, NULL);
    return throw_error(env, "SKYDIVE_CAPTURE_NOMEM", "napi_create_external failed");
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "handle", ext);
  set_number(env, result, "linkType", dlt_to_linktype(pcap_datalink(p)));
  set_number(env, result, "snaplen", h->snaplen);
  if (*warning) {
    napi_value w;
    napi_create_string_utf8(env, warning, NAPI_AUTO_LENGTH, &w);
    napi_set_named_property(env, result, "warning", w);
  }
  napi_create_string_utf8(env, "skydive:capture", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &h->async_ctx);
  return result;
}

/* The handle of argv[0], or NULL with a JS error (also when it was closed). */
static capture_handle *handle_arg(napi_env env, napi_value v, const char *fn) {
  capture_handle *h = NULL;
  char msg[120];
  if (napi_get_value_external(env, v, (void **)&h) != napi_ok || !h) {
    snprintf(msg, sizeof(msg), "%s: invalid capture handle", fn);
    throw_error(env, "SKYDIVE_CAPTURE_ARGS", msg);
    return NULL;
  }
  if (!h->p) {
    snprintf(msg, sizeof(msg), "%s: the capture is closed", fn);
    throw_error(env, "SKYDIVE_CAPTURE_CLOSED", msg);
    return NULL;
  }
  return h;
}

static void copy_packet(u_char *user, const struct pcap_pkthdr *hdr, const u_char *bytes) {
  capture_handle *h = (capture_handle *)user;
  uint32_t caplen = hdr->caplen > h->snaplen ? h->snaplen : hdr->caplen;
  uint32_t *rec = (uint32_t *)(h->out + h->used);
  rec[0] = (uint32_t)hdr->ts.tv_sec;
  rec[1] = (uint32_t)hdr->ts.tv_usec;
  rec[2] = caplen;
  rec[3] = hdr->len;
  memcpy(h->out + h->used + RECORD_HEADER, bytes, caplen);
  h->used += RECORD_HEADER + PAD4(caplen);
  h->count++;
  /* the next packet might not fit: end the batch here, the ring keeps the rest */
  if (h->out_len - h->used < RECORD_HEADER + PAD4(h->snaplen)) pcap_breakloop(h->p);
}

/*
 * captureNext(handle, out: Uint8Array, maxPackets: number): number of records written into out from offset 0,
 * 0 when the ring holds nothing (never blocks). out must be 4-byte aligned and hold one record of snaplen.
 */
static napi_value capture_next(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 3)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureNext(handle, out, maxPackets) expects 3 arguments");
  capture_handle *h = handle_arg(env, argv[0], "captureNext");
  if (!h) return NULL;
  napi_typedarray_type type;
  size_t length = 0, byte_offset = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &ab, &byte_offset) != napi_ok || type != napi_uint8_array)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureNext: out must be a Uint8Array");
  if (((uintptr_t)data & 3) != 0 || length < RECORD_HEADER + PAD4(h->snaplen)) {
    char msg[160];
    snprintf(msg, sizeof(msg), "captureNext: out must be 4-byte aligned and hold at least %u bytes (one record of snaplen %u)",
             RECORD_HEADER + PAD4(h->snaplen), h->snaplen);
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", msg);
  }
  int32_t max = 0;
  if (napi_get_value_int32(env, argv[2], &max) != napi_ok || max <= 0)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureNext: maxPackets must be a positive integer");
  h->out = data;
  h->out_len = length;
  h->used = 0;
  h->count = 0;
  int rc = pcap_dispatch(h->p, max, copy_packet, (u_char *)h);
  h->out = NULL;
  if (rc < 0 && rc != PCAP_ERROR_BREAK) return throw_pcap(env, "SKYDIVE_CAPTURE_READ", "read failed", h->p, rc);
  napi_value result;
  napi_create_uint32(env, h->count, &result);
  return result;
}

static void on_readable(uv_poll_t *poll, int status, int events) {
  (void)events;
  capture_handle *h = poll->data;
  uv_poll_stop(poll);
  napi_env env = h->env;
  napi_ref ref = h->wait_cb;
  h->wait_cb = NULL;
  if (!ref) return;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, global, arg, ignored;
  napi_get_reference_value(env, ref, &cb);
  napi_delete_reference(env, ref);
  napi_get_global(env, &global);
  if (status < 0)
    napi_create_string_utf8(env, uv_strerror(status), NAPI_AUTO_LENGTH, &arg);
  else
    napi_get_undefined(env, &arg);
  if (napi_make_callback(env, h->async_ctx, global, cb, 1, &arg, &ignored) == napi_pending_exception) {
    /* an exception in the callback is uncaught, like in any other event callback */
    napi_value err;
    napi_get_and_clear_last_exception(env, &err);
    napi_fatal_exception(env, err);
  }
  napi_close_handle_scope(env, scope);
}

/*
 * captureWait(handle, cb: (error?: string) => void): calls cb once, from the event loop, when the capture socket
 * becomes readable (packets in the ring) or reports an error (libuv's message, e.g. "bad file descriptor" for
 * POLLERR; the next captureNext usually throws libpcap's own, e.g. "The interface disappeared"). One wait at a time.
 */
static napi_value capture_wait(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_valuetype t = napi_undefined;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 || napi_typeof(env, argv[1], &t) != napi_ok ||
      t != napi_function)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureWait(handle, cb) expects a callback");
  capture_handle *h = handle_arg(env, argv[0], "captureWait");
  if (!h) return NULL;
  if (h->wait_cb) return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureWait: already waiting");
  if (!h->poll) {
    uv_loop_t *loop = NULL;
    h->poll = calloc(1, sizeof(uv_poll_t));
    if (!h->poll) return throw_error(env, "SKYDIVE_CAPTURE_NOMEM", "out of memory");
    if (napi_get_uv_event_loop(env, &loop) != napi_ok || uv_poll_init(loop, h->poll, pcap_get_selectable_fd(h->p)) != 0) {
      free(h->poll);
      h->poll = NULL;
      return throw_error(env, "SKYDIVE_CAPTURE_READ", "captureWait: cannot poll the capture socket");
    }
    h->poll->data = h;
  }
  int rc = uv_poll_start(h->poll, UV_READABLE, on_readable);
  if (rc != 0) {
    char msg[160];
    snprintf(msg, sizeof(msg), "captureWait: cannot poll the capture socket: %s", uv_strerror(rc));
    return throw_error(env, "SKYDIVE_CAPTURE_READ", msg);
  }
  napi_create_reference(env, argv[1], 1, &h->wait_cb);
  return NULL;
}

/* captureStats(handle): { received, dropped, ifDropped } since the capture opened (pcap_stats) */
static napi_value capture_stats(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureStats(handle) expects a handle");
  capture_handle *h = handle_arg(env, argv[0], "captureStats");
  if (!h) return NULL;
  struct pcap_stat st;
  if (pcap_stats(h->p, &st) != 0) return throw_pcap(env, "SKYDIVE_CAPTURE_READ", "cannot read the capture counters", h->p, PCAP_ERROR);
  napi_value result;
  napi_create_object(env, &result);
  set_number(env, result, "received", st.ps_recv);
  set_number(env, result, "dropped", st.ps_drop);
  set_number(env, result, "ifDropped", st.ps_ifdrop);
  return result;
}

/* captureInject(handle, frame: Uint8Array): sends one complete frame out of the interface */
static napi_value capture_inject(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureInject(handle, frame) expects 2 arguments");
  capture_handle *h = handle_arg(env, argv[0], "captureInject");
  if (!h) return NULL;
  napi_typedarray_type type;
  size_t length = 0, byte_offset = 0;
  void *data = NULL;
  napi_value ab;
  if (napi_get_typedarray_info(env, argv[1], &type, &length, &data, &ab, &byte_offset) != napi_ok || type != napi_uint8_array)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureInject: frame must be a Uint8Array");
  if (pcap_inject(h->p, data, length) < 0) return throw_pcap(env, "SKYDIVE_CAPTURE_INJECT", "cannot send the frame", h->p, PCAP_ERROR);
  return NULL;
}

/* captureClose(handle): closes the capture now (the GC would otherwise do it); later calls on it throw */
static napi_value capture_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  capture_handle *h = NULL;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_external(env, argv[0], (void **)&h) != napi_ok || !h)
    return throw_error(env, "SKYDIVE_CAPTURE_ARGS", "captureClose: invalid capture handle");
  capture_release(h);
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bpfCompile", NULL, bpf_compile, NULL, NULL, NULL, napi_default, NULL},
      {"bpfMatch", NULL, bpf_match, NULL, NULL, NULL, napi_default, NULL},
      {"bpfProgram", NULL, bpf_program, NULL, NULL, NULL, napi_default, NULL},
      {"captureOpen", NULL, capture_open, NULL, NULL, NULL, napi_default, NULL},
      {"captureNext", NULL, capture_next, NULL, NULL, NULL, napi_default, NULL},
      {"captureWait", NULL, capture_wait, NULL, NULL, NULL, napi_default, NULL},
      {"captureStats", NULL, capture_stats, NULL, NULL, NULL, napi_default, NULL},
      {"captureInject", NULL, capture_inject, NULL, NULL, NULL, napi_default, NULL},
      {"captureClose", NULL, capture_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
