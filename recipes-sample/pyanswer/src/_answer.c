/* pyanswer._answer: a CPython extension module that calls into libanswer. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <answer.h>

static PyObject *py_answer(PyObject *self, PyObject *args) { return PyLong_FromLong(answer()); }

static PyObject *py_libanswer_version(PyObject *self, PyObject *args)
{
    return PyUnicode_FromString(answer_version());
}

static PyMethodDef methods[] = {
    {"answer", py_answer, METH_NOARGS, "The answer, computed by libanswer."},
    {"libanswer_version", py_libanswer_version, METH_NOARGS, "The version of the loaded libanswer."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_answer", NULL, -1, methods};

PyMODINIT_FUNC PyInit__answer(void) { return PyModule_Create(&module); }
