// Run pytest inside Pyodide (CPython 3.12 on WebAssembly, as xlwings Lite runs it) under Node, offline.
//
// usage: node run-pytest.mjs PROJECT_DIR [pytest arguments, paths relative to PROJECT_DIR]
//
// Fetch the runtime and wheels first with setup.sh. Prints the time of each start-up step
// (Pyodide started, numpy/scipy/pandas loaded, clv_xl.udfs imported) and exits with pytest's code.
import { loadPyodide } from "pyodide";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const projectDir = path.resolve(process.argv[2] ?? ".");
const pytestArgs = process.argv.slice(3);
const started = performance.now();
const lap = (step) =>
  console.error(`[pyodide] ${step}: ${((performance.now() - started) / 1000).toFixed(2)} s`);

const pyodide = await loadPyodide({
  indexURL: path.join(here, "node_modules", "pyodide") + path.sep, // runtime + official pyodide-lock.json
  packageCacheDir: path.join(here, "pyodide-pkgs"), // compiled wheels, found here before any download
  // A licence key makes xlwings use its Lite decorators, as in xlwings Lite (tests/test_lite_host.py);
  // the free noncommercial key when none is set.
  env: {
    HOME: "/home/pyodide",
    PYTHONHASHSEED: "0",
    HYPOTHESIS_PROFILE: process.env.HYPOTHESIS_PROFILE ?? "default", // "ci" in .ci/run: the same examples each run
    XLWINGS_LICENSE_KEY: process.env.XLWINGS_LICENSE_KEY ?? "noncommercial",
  },
  stdout: (line) => process.stdout.write(line + "\n"),
  stderr: (line) => process.stderr.write(line + "\n"),
});
lap(`Pyodide ${pyodide.version} started`);

const loadErrors = [];
await pyodide.loadPackage(["numpy", "scipy", "pandas"], {
  messageCallback: () => {},
  errorCallback: (message) => loadErrors.push(message),
});
if (loadErrors.length) {
  console.error(loadErrors.join("\n"));
  process.exit(3);
}
lap("numpy, scipy and pandas loaded");

for (const [hostDir, mountPoint] of [
  [path.join(here, "wheels"), "/mnt/wheels"],
  [projectDir, "/mnt/project"],
]) {
  pyodide.FS.mkdirTree(mountPoint);
  pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: hostDir }, mountPoint);
}
pyodide.setStdin({ error: true });
pyodide.globals.set("pytest_args", pyodide.toPy(pytestArgs));

// A Python error is printed as its traceback only: a JavaScript error object would also print
// a line of minified Pyodide source megabytes long.
const runPython = async (code) => {
  try {
    return await pyodide.runPythonAsync(code);
  } catch (error) {
    console.error(error?.type ? String(error.message) : error);
    process.exit(3);
  }
};

await runPython(`
import glob, importlib, os, site, sys, zipfile
sys.dont_write_bytecode = True  # the project is mounted writable: leave no __pycache__ of wasm builds
for wheel in sorted(glob.glob("/mnt/wheels/*.whl")):  # pure-Python wheels: unpacking installs them
    zipfile.ZipFile(wheel).extractall(site.getsitepackages()[0])
importlib.invalidate_caches()
os.chdir("/mnt/project")
sys.path.insert(0, "/mnt/project")
import clv_xl.udfs
`);
lap("clv_xl.udfs imported");

const exitCode = await runPython(`
import pytest

class PyodideHypothesisProfile:
    """wasm runs several times slower than native: no per-example deadline; no example database."""

    def pytest_configure(self, config):
        import hypothesis  # imported here, after pytest has set up its assertion rewriting

        hypothesis.settings.register_profile("pyodide", deadline=None, database=None)
        hypothesis.settings.load_profile("pyodide")

# --capture=sys: pytest's default fd capture needs os.fstat on an unlinked file, which Emscripten lacks
int(pytest.main(["-p", "no:cacheprovider", "--capture=sys", *pytest_args], plugins=[PyodideHypothesisProfile()]))
`);
lap("pytest finished");
process.exitCode = exitCode;
