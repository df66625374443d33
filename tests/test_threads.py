"""The thread policy of `xbench run` (issue 13 item 1) and the Table 2 noise default (item 3)."""

from __future__ import annotations

import pytest

from xbench.running import threads
from xbench.running.config import RunConfig

from .conftest import tiny_options

NO_ENV: dict[str, str] = {}


def test_auto_on_cpu_runs_one_thread_cells_up_to_the_cores():
    p = threads.plan(cells=10, cores=4, environ=NO_ENV)
    assert (p.jobs, p.features_threads, p.images_threads) == (4, 1, 1)
    assert threads.plan(cells=3, cores=8, environ=NO_ENV).jobs == 3


def test_a_single_cell_runs_in_process_and_raw_images_get_the_cores():
    p = threads.plan(cells=1, cores=4, environ=NO_ENV)
    assert (p.jobs, p.features_threads, p.images_threads) == (1, 1, 4)
    assert p.threads_for("images") == 4 and p.threads_for("features") == 1


def test_threads_option_and_omp_num_threads_override():
    p = threads.plan(cells=10, cores=4, environ={"OMP_NUM_THREADS": "2"})
    assert (p.jobs, p.features_threads, p.images_threads) == (2, 2, 2)
    p = threads.plan(cells=10, cores=4, threads=4, environ={"OMP_NUM_THREADS": "2"})
    assert (p.jobs, p.features_threads, p.images_threads) == (1, 4, 4)
    for bad in ("", "0", "x", "-1"):
        assert threads.env_threads({"OMP_NUM_THREADS": bad}) is None


def test_explicit_jobs_and_gpus():
    p = threads.plan(cells=10, jobs=3, cores=4, environ=NO_ENV)
    assert (p.jobs, p.features_threads, p.images_threads) == (3, 1, 1)
    assert threads.plan(cells=10, jobs=8, cores=4, environ=NO_ENV).jobs == 8
    assert threads.plan(cells=2, jobs=8, cores=4, environ=NO_ENV).jobs == 2
    assert threads.plan(cells=10, gpus=2, cores=16, environ=NO_ENV).jobs == 2
    assert threads.plan(cells=10, cores=4, environ=NO_ENV, parallel_ok=False).jobs == 1


def test_auto_leaves_out_the_cores_other_processes_keep_busy():
    p = threads.plan(cells=10, cores=2, environ=NO_ENV, busy=1)
    assert (p.jobs, p.features_threads, p.images_threads) == (1, 1, 1)
    assert "1 busy with other processes" in p.reason
    assert threads.plan(cells=10, cores=8, environ=NO_ENV, busy=3).jobs == 5
    assert threads.plan(cells=10, cores=2, environ=NO_ENV, busy=5).jobs == 1  # never below one job
    assert threads.plan(cells=1, cores=4, environ=NO_ENV, busy=2).images_threads == 2
    # an explicit --jobs is kept whatever the load; the load is not mentioned
    p = threads.plan(cells=10, jobs=2, cores=2, environ=NO_ENV, busy=1)
    assert p.jobs == 2 and "busy" not in p.reason and p.images_threads == 1


def test_busy_cores_reads_the_runnable_count_less_this_process(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text("cpu  1 2 3 4\nprocs_running 3\nprocs_blocked 0\n")
    assert threads.busy_cores(samples=3, interval=0, stat=str(stat)) == 2
    stat.write_text("procs_running 1\n")
    assert threads.busy_cores(samples=1, stat=str(stat)) == 0
    stat.write_text("no such line\n")
    assert threads.busy_cores(samples=1, stat=str(stat)) == 0
    assert threads.busy_cores(samples=1, stat=str(tmp_path / "missing")) == 0


def test_parse_jobs():
    assert threads.parse_jobs("auto") is None and threads.parse_jobs(None) is None
    assert threads.parse_jobs("3") == 3
    for bad in ("0", "-2", "many"):
        with pytest.raises(ValueError, match="--jobs"):
            threads.parse_jobs(bad)


def test_runtime_registered_methods_keep_the_grid_in_process(test_methods_registered):
    built_in = RunConfig(method="dcmh", dataset="synthetic", bits=16, noise="symmetric:0.6")
    assert threads.fresh_process_knows([built_in])
    runtime = RunConfig(method=test_methods_registered, dataset="synthetic", bits=16, noise="none")
    assert not threads.fresh_process_knows([built_in, runtime])


@pytest.fixture
def test_methods_registered():
    from xbench import methods

    cls = type("Runtime", (methods.get("lsh"),), {"name": "runtime-only"})
    methods.registry.register(cls.name, cls)
    yield cls.name
    methods.registry.unregister(cls.name)


def test_apply_threads_sets_torch_threads():
    import torch

    before = torch.get_num_threads()
    try:
        threads.apply_threads(2)
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_default_noise_is_table_2(cli, tmp_path):
    res = cli("run", "--methods", "lsh", "--bits", "16", "--results", tmp_path, "--dry-run", *tiny_options())
    assert res.exit_code == 0, res.output
    assert "symmetric:0.6" in res.output
    res = cli(
        "run",
        "--methods",
        "lsh",
        "--bits",
        "16",
        "--noise",
        "none",
        "--results",
        tmp_path,
        "--dry-run",
        *tiny_options(),
    )
    assert "symmetric:0.6" not in res.output and " none" in res.output


def test_bad_jobs_and_threads_are_one_line_errors(cli, tmp_path):
    for args in (("--jobs", "0"), ("--jobs", "lots"), ("--threads", "0")):
        res = cli("run", "--methods", "lsh", "--results", tmp_path, *args)
        assert res.exit_code == 2, res.output
        assert args[0] in res.output
