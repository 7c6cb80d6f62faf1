//! A recording's audio, as `GET /Recordings/{RE}.wav` and `.mp3` serve it: silence,
//! as long as the recording but at most [`MAX_SECONDS`], so that a player or a proxy
//! streaming it gets real audio without the simulator holding any.

/// Longest audio served, in seconds: enough for a player to start, small to send.
pub(crate) const MAX_SECONDS: u32 = 3;

const WAV_RATE: u32 = 8000;

/// A WAV file (RIFF, PCM, 8 kHz, 16-bit, mono) of `seconds` of silence (at most
/// [`MAX_SECONDS`]), the format of Twilio's own recordings.
pub(crate) fn wav(seconds: u32) -> Vec<u8> {
    let data_len = seconds.min(MAX_SECONDS) * WAV_RATE * 2;
    let mut bytes = Vec::with_capacity(44 + data_len as usize);
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    bytes.extend_from_slice(&1u16.to_le_bytes()); // PCM
    bytes.extend_from_slice(&1u16.to_le_bytes()); // mono
    bytes.extend_from_slice(&WAV_RATE.to_le_bytes());
    bytes.extend_from_slice(&(WAV_RATE * 2).to_le_bytes()); // bytes per second
    bytes.extend_from_slice(&2u16.to_le_bytes()); // bytes per sample
    bytes.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    bytes.resize(44 + data_len as usize, 0);
    bytes
}

/// One MPEG-1 Layer III frame header: 128 kbit/s, 44.1 kHz, mono, no CRC, no padding.
const MP3_HEADER: [u8; 4] = [0xFF, 0xFB, 0x90, 0xC0];
/// 144 * 128000 / 44100, rounded down (no padding).
const MP3_FRAME_LEN: usize = 417;
/// 44100 samples a second, 1152 a frame: 38.3 frames, rounded up.
const MP3_FRAMES_PER_SECOND: u32 = 39;

/// MPEG-1 Layer III frames whose side information and main data are all zero, which
/// decoders play as silence: `seconds` of it (at most [`MAX_SECONDS`]). Not encoded
/// audio, but well-formed frames, so that a player or `Content-Type` sniffer accepts it.
pub(crate) fn mp3(seconds: u32) -> Vec<u8> {
    let frames = (seconds.min(MAX_SECONDS) * MP3_FRAMES_PER_SECOND) as usize;
    let mut bytes = Vec::with_capacity(frames * MP3_FRAME_LEN);
    for _ in 0..frames {
        bytes.extend_from_slice(&MP3_HEADER);
        bytes.resize(bytes.len() + MP3_FRAME_LEN - MP3_HEADER.len(), 0);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wav_is_an_8_khz_16_bit_mono_riff_of_the_capped_length() {
        let bytes = wav(12);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(&bytes[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(bytes[24..28].try_into().unwrap()), 8000);
        assert_eq!(u16::from_le_bytes(bytes[34..36].try_into().unwrap()), 16);
        let data = u32::from_le_bytes(bytes[40..44].try_into().unwrap());
        assert_eq!(data, MAX_SECONDS * 16_000);
        assert_eq!(bytes.len(), 44 + data as usize);
        assert_eq!(wav(1).len(), 44 + 16_000);
        assert!(bytes[44..].iter().all(|b| *b == 0), "silence");
    }

    #[test]
    fn an_mp3_is_whole_frames_each_starting_with_a_frame_header() {
        let bytes = mp3(2);
        assert_eq!(bytes.len(), 78 * MP3_FRAME_LEN);
        assert!(
            bytes
                .chunks(MP3_FRAME_LEN)
                .all(|frame| frame[..4] == MP3_HEADER)
        );
        assert_eq!(mp3(60).len(), mp3(MAX_SECONDS).len());
    }
}
