# The VM's types module, written in Python: the types of built-in objects, found from
# instances of them, and SimpleNamespace (the class of sys.implementation).

import sys as _sys

SimpleNamespace = type(_sys.implementation)


def _function():
    pass


FunctionType = type(_function)
LambdaType = FunctionType
CodeType = type(_function.__code__)
MappingProxyType = type(type.__dict__)
CellType = type((lambda x: lambda: x)(0).__closure__[0])
ModuleType = type(_sys)
BuiltinFunctionType = type(len)
BuiltinMethodType = type([].append)
NoneType = type(None)
EllipsisType = type(Ellipsis)
NotImplementedType = type(NotImplemented)
GenericAlias = type(list[int])
UnionType = type(int | str)


def _generator():
    yield 1


GeneratorType = type(_generator())


async def _coroutine():
    pass


_c = _coroutine()
CoroutineType = type(_c)
_c.close()


async def _async_generator():
    yield 1


AsyncGeneratorType = type(_async_generator())


class _C:
    def _m(self):
        pass


MethodType = type(_C()._m)

del _sys, _function, _generator, _coroutine, _c, _async_generator, _C
