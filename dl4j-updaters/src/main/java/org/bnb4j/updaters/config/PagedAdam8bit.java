package org.bnb4j.updaters.config;

import lombok.EqualsAndHashCode;
import lombok.ToString;
import org.nd4j.linalg.schedule.ISchedule;

/**
 * bitsandbytes' PagedAdam8bit: Adam8bit with {@code paged(true)}, its state in a file-backed mapping the OS
 * pages out when memory runs short (docs/PAGED.md). The same fields and JSON as Adam8bit, plus the
 * paged settings; {@code pagedDirectory} as there.
 */
@EqualsAndHashCode(callSuper = true)
@ToString(callSuper = true)
public class PagedAdam8bit extends Adam8bit {
    public PagedAdam8bit() {
        paged = true;
    }

    public PagedAdam8bit(double learningRate) {
        super(learningRate);
        paged = true;
    }

    public PagedAdam8bit(ISchedule learningRateSchedule) {
        super(learningRateSchedule);
        paged = true;
    }

    public PagedAdam8bit(double learningRate, double beta1, double beta2, double epsilon) {
        super(learningRate, beta1, beta2, epsilon);
        paged = true;
    }

    /** A builder starting from a PagedAdam8bit (paged on). */
    public static Adam8bit.Builder builder() {
        return new Adam8bit.Builder(new PagedAdam8bit());
    }

    @Override
    protected Adam8bit blank() {
        return new PagedAdam8bit();
    }
}
