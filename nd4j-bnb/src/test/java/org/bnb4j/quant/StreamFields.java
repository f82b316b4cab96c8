package org.bnb4j.quant;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/**
 * The fields of a version-1 QuantState stream, decoded and encoded independently of the class under
 * test, so tests can forge any field (declared lengths apart from the data that follows them) and
 * still give the stream a valid checksum.
 *
 * <p>Layout (big-endian): magic (8), version (4), blocksize (4), data type name (u16 length + UTF-8),
 * rank (4), rank dimensions (8 each), map name (u16 length + UTF-8), 256 map values (float bits, 4
 * each), block count (8), absmax (4 each), code count (8), codes (1 each), CRC32 of all of it (8).
 */
final class StreamFields {
    long magic;
    int version;
    int blocksize;
    int typeNameLength;      // the declared u16 length
    byte[] typeName;
    int rank;                // the declared rank
    long[] dims;
    int mapNameLength;
    byte[] mapName;
    int[] map = new int[256];
    long blocks;             // the declared block count
    int[] absmax;
    long codeCount;          // the declared code count
    byte[] codes;
    Long crc;                // null: computed by encode()

    /** Byte offset of the map name's length field and of the first map value, in the parsed stream. */
    int mapNameOffset, mapOffset;

    static StreamFields parse(byte[] stream) {
        try {
            DataInputStream d = new DataInputStream(new ByteArrayInputStream(stream));
            StreamFields f = new StreamFields();
            f.magic = d.readLong();
            f.version = d.readInt();
            f.blocksize = d.readInt();
            f.typeNameLength = d.readUnsignedShort();
            f.typeName = d.readNBytes(f.typeNameLength);
            f.rank = d.readInt();
            f.dims = new long[f.rank];
            for (int i = 0; i < f.rank; i++) f.dims[i] = d.readLong();
            f.mapNameOffset = stream.length - d.available();
            f.mapNameLength = d.readUnsignedShort();
            f.mapName = d.readNBytes(f.mapNameLength);
            f.mapOffset = stream.length - d.available();
            for (int i = 0; i < 256; i++) f.map[i] = d.readInt();
            f.blocks = d.readLong();
            f.absmax = new int[(int) f.blocks];
            for (int i = 0; i < f.blocks; i++) f.absmax[i] = d.readInt();
            f.codeCount = d.readLong();
            f.codes = d.readNBytes((int) f.codeCount);
            f.crc = d.readLong();
            if (d.available() != 0) throw new IllegalStateException(d.available() + " bytes after the checksum");
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The stream, with a freshly computed CRC unless {@link #crc} was set after parsing or by the caller. */
    byte[] encode(boolean freshCrc) {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream d = new DataOutputStream(bytes);
            d.writeLong(magic);
            d.writeInt(version);
            d.writeInt(blocksize);
            d.writeShort(typeNameLength);
            d.write(typeName);
            d.writeInt(rank);
            for (long s : dims) d.writeLong(s);
            d.writeShort(mapNameLength);
            d.write(mapName);
            for (int v : map) d.writeInt(v);
            d.writeLong(blocks);
            for (int v : absmax) d.writeInt(v);
            d.writeLong(codeCount);
            d.write(codes);
            CRC32 c = new CRC32();
            c.update(bytes.toByteArray());
            d.writeLong(freshCrc || crc == null ? c.getValue() : crc);
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Replaces the data type name, length field included. */
    StreamFields typeName(String s) {
        typeName = s.getBytes(StandardCharsets.UTF_8);
        typeNameLength = typeName.length;
        return this;
    }

    /** Replaces the shape: rank and dimensions agree. */
    StreamFields shape(long... s) {
        rank = s.length;
        dims = s.clone();
        return this;
    }
}
