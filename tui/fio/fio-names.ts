// Every other option name fio knows (options.c and the option tables of the engines kiotrace
// runs, as of fio 3.x): a job file naming one gets "not modelled" rather than "unknown", so a
// real option is never mistaken for a typo. Each is refused: it would change what the job does.

export const OTHER_FIO_OPTIONS: readonly string[] = [
  "allow_mounted_write", "allrandrepeat", "apptag", "apptag_mask", "atomic", "block_error_percentiles",
  "buffer_compress_chunk", "bwavgtime", "cdb_len", "cgroup_nodelete", "cmd_type", "cmdprio", "cmdprio_class",
  "cmdprio_hint", "comm", "cpuchunks", "cpuio", "cpumode", "create_fsync", "create_only", "data_placement",
  "dataplacement", "deac", "dedupe_global", "dedupe_mode", "dedupe_working_set_percentage", "disable_bw",
  "disable_bw_measurement", "disable_clat", "disable_lat", "disable_slat", "dp_scheme", "end_syncfs",
  "error_dump", "exit_on_io_done", "experimental_verify", "fdp", "fdp_pli", "fdp_pli_select", "filetype",
  "flow_watermark", "force_async", "gpu_dev_id", "gtod_cpu", "hipri_percentage",
  "ignore_error", "ignore_zone_limits", "io_uring", "io_uring_cmd", "iopsavgtime", "job_max_open_zones",
  "job_start_clock_id", "lat_percentiles", "libaio",
  "libaio_vectored", "log_alternate_epoch", "log_alternate_epoch_clock_id", "log_compression",
  "log_compression_cpus", "log_entries", "log_hist_coarseness", "log_hist_msec", "log_issue_time",
  "log_max_value", "log_offset", "log_prio", "log_store_compressed", "log_unix_epoch", "log_window_value",
  "md_per_io_size", "merge_blktrace_file", "merge_blktrace_iters", "merge_blktrace_scalars", "mmap",
  "nonvectored", "nowait", "null", "num_range", "percentage_sequential", "pi_act", "pi_chk", "plid_select",
  "plids", "posixaio", "priohint", "profile", "psync", "pvsync", "pvsync2", "ramp_size",
  "random_sequence_stride", "rate_ignore_thinktime", "read_beyond_wp",
  "read_iolog_chunked", "read_mode", "readfua", "recover_zbd_write_error", "replay_align", "replay_no_stall",
  "replay_scale", "replay_skip", "replay_time_scale", "rwmixcycle", "significant_figures",
  "slat_percentiles", "softrandommap", "spr_cs", "spr_num_regions", "spr_op", "sprandom",
  "sqthread_poll_cpu", "ss_interval", "steadystate_check_interval", "thinkcycles", "thinktime_blocks_type",
  "thinktime_iotime", "thp", "trim_backlog_batch", "trim_verify_zero", "uncached",
  "unique_filename", "userspace_reap", "verify_async_cpus", "verify_backlog_batch", "verify_bytchk",
  "verify_header_seed", "verify_mode", "verify_pattern_interval", "verify_policy", "verify_state_load",
  "verify_write_sequence", "verifysort", "verifysort_nr", "vsync", "write_barrier", "write_hint",
  "write_mode", "write_zone_remainder", "writefua", "zone_reset_frequency", "zone_reset_threshold",
  "zonecapacity",
];
