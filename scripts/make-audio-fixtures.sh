#!/usr/bin/env bash
# Makes the music widget's test tracks (committed under test/fixtures/audio/) from
# Debian tools: sox (tones), lame (MP3 with ID3 title/artist/album and cover art),
# flac + metaflac (FLAC with Vorbis comments and a picture), plus a synced .lrc.
# Usage: apt-get install sox lame flac && bash scripts/make-audio-fixtures.sh
set -euo pipefail
cd "$(dirname "$0")/../test/fixtures/audio"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A 60 s melody (a few notes, 8 kHz mono) so files stay small but long enough to stream.
sox -n -r 8000 -c 1 -b 16 "$tmp/melody.wav" synth 60 sine 440:660 sine 330 remix - fade 0.5 60 1 vol 0.5
cp "$tmp/melody.wav" evening-tone.wav

# Cover art: a small PNG drawn by sox's spectrogram (no image tools needed).
sox "$tmp/melody.wav" -n spectrogram -x 100 -Y 130 -r -o "$tmp/cover.png"

lame --quiet -b 32 --tt "Morning Tone" --ta "The Fixtures" --tl "Test Pressings" --ti "$tmp/cover.png" "$tmp/melody.wav" morning-tone.mp3
flac --silent --force -o night-tone.flac "$tmp/melody.wav"
metaflac --set-tag="TITLE=Night Tone" --set-tag="ARTIST=The Fixtures" --set-tag="ALBUM=Test Pressings" --import-picture-from="$tmp/cover.png" night-tone.flac

cat > morning-tone.lrc <<'LRC'
[ti:Morning Tone]
[ar:The Fixtures]
[00:00.50]First line, at half a second
[00:02.00]Second line, at two seconds
[00:04.00]Third line, at four seconds
[00:08.00]Fourth line, at eight seconds
[00:30.00]Halfway there
LRC
ls -la
