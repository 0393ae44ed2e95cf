{
  "targets": [
    {
      "target_name": "skydive_native",
      "sources": ["skydive_native.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "libraries": ["-lpcap"]
    }
  ]
}
