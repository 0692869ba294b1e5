/* deepthought._core: the ultimate answer, computed by libanswer. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <answer.h>

static PyObject *ultimate_answer(PyObject *self, PyObject *args)
{
    return PyUnicode_FromFormat("%d (libanswer %s)", answer(), answer_version());
}

static PyMethodDef methods[] = {
    {"ultimate_answer", ultimate_answer, METH_NOARGS, "Ask libanswer."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_core", NULL, -1, methods};

PyMODINIT_FUNC PyInit__core(void) { return PyModule_Create(&module); }
