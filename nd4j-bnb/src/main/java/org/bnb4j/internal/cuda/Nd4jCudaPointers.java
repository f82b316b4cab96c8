package org.bnb4j.internal.cuda;

import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.lang.reflect.Method;

/**
 * {@link DevicePointers} of nd4j-cuda (see shared notes, dl4j-internals: AtomicAllocator.getPointer
 * after AffinityManager.ensureLocation(DEVICE); tagLocation(DEVICE) after writing). nd4j-cuda is not a
 * dependency of bnb4j (its M2.1 builds exist for CUDA 11.x only), so its classes are reached by name.
 */
final class Nd4jCudaPointers implements DevicePointers {
    private final Object allocator;
    private final Method getPointer;        // AtomicAllocator.getPointer(INDArray, CudaContext)
    private final Method getDeviceContext;  // AtomicAllocator.getDeviceContext()

    Nd4jCudaPointers() throws ReflectiveOperationException {
        Class<?> c = Class.forName("org.nd4j.jita.allocator.impl.AtomicAllocator");
        allocator = c.getMethod("getInstance").invoke(null);
        getDeviceContext = c.getMethod("getDeviceContext");
        Method found = null;
        for (Method m : c.getMethods()) {
            if (m.getName().equals("getPointer") && m.getParameterCount() == 2 && m.getParameterTypes()[0] == INDArray.class) found = m;
        }
        if (found == null) throw new NoSuchMethodException("AtomicAllocator.getPointer(INDArray, CudaContext)");
        getPointer = found;
    }

    @Override
    public long address(INDArray arr) {
        Nd4j.getAffinityManager().ensureLocation(arr, AffinityManager.Location.DEVICE);
        try {
            // getPointer(INDArray, ...) is already offset to the view's first element.
            return ((Pointer) getPointer.invoke(allocator, arr, getDeviceContext.invoke(allocator))).address();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("bnb4j: cannot get the device pointer of an array from nd4j-cuda: " + e, e);
        }
    }

    @Override
    public long stream() {
        try {
            Object ctx = getDeviceContext.invoke(allocator);
            Object s = ctx.getClass().getMethod("getOldStream").invoke(ctx);
            return s == null ? 0 : ((Pointer) s).address();
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("bnb4j: cannot get nd4j-cuda's stream: " + e, e);
        }
    }

    @Override
    public void written(INDArray arr) {
        Nd4j.getAffinityManager().tagLocation(arr, AffinityManager.Location.DEVICE);
    }
}
