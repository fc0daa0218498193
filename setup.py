"""Builds tokalign._native with the project's CMake build (-DTOKALIGN_PYTHON=ON) for pip."""
import os
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        out = os.path.abspath(os.path.dirname(self.get_ext_fullpath(ext.name)))
        build = os.path.abspath(os.path.join(self.build_temp, "cmake"))
        root = os.path.dirname(os.path.abspath(__file__))
        subprocess.check_call(["cmake", "-S", root, "-B", build, "-DCMAKE_BUILD_TYPE=Release", "-DTOKALIGN_PYTHON=ON",
                               "-DTOKALIGN_TESTS=OFF", "-DTOKALIGN_BENCH=OFF", f"-DPython3_EXECUTABLE={sys.executable}",
                               f"-DTOKALIGN_PYTHON_OUTPUT_DIR={out}"])
        subprocess.check_call(["cmake", "--build", build, "--target", "tokalign_python", "-j", str(os.cpu_count() or 1)])


setup(
    package_dir={"": "python"},
    packages=["tokalign"],
    py_modules=["tokalign_shard"],
    ext_modules=[Extension("tokalign._native", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
