#!/usr/bin/env python3
"""Runs one of mosquitto's client test files case by case.

A case is one top-level `do_test(...)` call of the file (also inside `if __name__ == '__main__':`).
The file is not changed: its source is parsed, everything but those calls runs once, then each call
runs on its own, so one failing case does not hide the ones after it (the file itself stops at the
first failure with exit(rc)).

usage: cases.py FILE PORT[,PORT2] [INDEX,...]
MOSQ_SUITE_ALLOWANCE=SECONDS (optional): after a case starts a client from BUILD_ROOT, its next
short sleep (the 0.1 s the tests give a client before they publish) is longer by this much: the
allowance for a module's bring-up. Unset, the files' own timing stands.
Prints one JSON object per case: {"index", "line", "call", "result": "pass"|"fail"|"skip", "output"}.
"""
import ast
import contextlib
import io
import json
import os
import sys
import traceback


def case_calls(tree):
    """The top-level do_test(...) statements, in order, and the module without them."""
    calls = []

    def take(body):
        kept = []
        for node in body:
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and getattr(node.value.func, 'id', None) == 'do_test':
                calls.append(node)
                continue
            if isinstance(node, ast.If) and ast.unparse(node.test).replace('"', "'") == "__name__ == '__main__'":
                node.body = take(node.body) or [ast.Pass()]
            kept.append(node)
        return kept

    tree.body = take(tree.body)
    return tree, calls


def add_allowance(seconds):
    """Lengthens the first short sleep after each client start by `seconds`."""
    import subprocess
    import time
    build_root = os.environ.get('BUILD_ROOT', '')
    pending = {'client': False}
    real_popen_init = subprocess.Popen.__init__
    real_sleep = time.sleep

    def popen_init(self, args, *rest, **kw):
        first = args[0] if isinstance(args, (list, tuple)) and args else args
        if isinstance(first, str) and build_root and first.startswith(build_root + '/client/'):
            pending['client'] = True
        real_popen_init(self, args, *rest, **kw)

    def sleep(t):
        if pending['client'] and t <= 0.5:
            pending['client'] = False
            t += seconds
        real_sleep(t)

    subprocess.Popen.__init__ = popen_init
    time.sleep = sleep


def main():
    path = os.path.abspath(sys.argv[1])
    ports = sys.argv[2].split(',')
    wanted = None if len(sys.argv) < 4 or sys.argv[3] == '' else {int(i) for i in sys.argv[3].split(',')}
    allowance = float(os.environ.get('MOSQ_SUITE_ALLOWANCE', '0') or 0)
    if allowance > 0:
        add_allowance(allowance)
    sys.argv = [path] + ports  # mosq_test.get_port() reads the ports from here
    sys.path.insert(0, os.path.dirname(path))
    with open(path, encoding='utf-8') as f:
        source = f.read()
    module, calls = case_calls(ast.parse(source, path))
    scope = {'__name__': '__main__', '__file__': path, '__builtins__': __builtins__}
    exec(compile(ast.fix_missing_locations(module), path, 'exec'), scope)
    for index, call in enumerate(calls):
        if wanted is not None and index not in wanted:
            continue
        out = io.StringIO()
        result = 'pass'
        with contextlib.redirect_stdout(out):
            try:
                exec(compile(ast.fix_missing_locations(ast.Module(body=[call], type_ignores=[])), path, 'exec'), scope)
            except SystemExit as e:
                code = e.code
                if code not in (None, 0):
                    result = 'fail'
                elif 'skipping test' in out.getvalue():
                    result = 'skip'
            except BaseException as e:  # TestError and anything else the case raised
                result = 'fail'
                print(''.join(traceback.format_exception_only(type(e), e)).strip())
        print(json.dumps({'index': index, 'line': call.lineno, 'call': ast.unparse(call), 'result': result, 'output': out.getvalue()[:3000]}), flush=True)


if __name__ == '__main__':
    main()
