/**
 * Reads text with tesseract.js (which runs in its own worker thread) using
 * the English LSTM data shipped in @tesseract.js-data/eng: no download, no
 * cache. Tesseract reports high page confidence on photos without text and
 * invents short "words" from texture, so whether there is text is decided
 * from the words themselves: confident, at least three characters, mostly
 * letters or digits.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import type Tesseract from 'tesseract.js';
import { rawInput, type DecodedImage } from '../../images/decode-once.js';
import { requiredPackageDir } from './model-packages.js';
import type { Box } from './model-protocol.js';

const require = createRequire(import.meta.url);

export interface ReadWord {
  text: string;
  confidence: number;
  box: Box;
}

export interface ReadText {
  text: string;
  words: ReadWord[];
  language: 'eng';
}

/** Word confidence (0–100) below which tesseract is mostly reading texture. */
const MIN_WORD_CONFIDENCE = 80;
const MIN_WORD_LENGTH = 3;
/**
 * Tesseract reads best with capitals some 20–40 px high, and which scale
 * reads a given sign whole varies (it drops a word's first or last letters
 * at the wrong one), so an image in which the first reading finds words is
 * read at a second size too, and the reading with more plausible characters
 * wins.
 */
const OCR_LONG_SIDES = [640, 1000];

let worker: Promise<Tesseract.Worker> | undefined;

function startWorker(): Promise<Tesseract.Worker> {
  const tesseract = require('tesseract.js') as typeof Tesseract;
  return tesseract
    .createWorker('eng', tesseract.OEM.LSTM_ONLY, {
      langPath: path.join(requiredPackageDir('@tesseract.js-data/eng'), '4.0.0_best_int'),
      cacheMethod: 'none',
      gzip: true,
      logger: () => undefined,
    })
    .then(async (started) => {
      // The PNGs carry no resolution; saying 300 dpi stops tesseract guessing (and printing about it).
      await started.setParameters({
        tessedit_pageseg_mode: tesseract.PSM.SPARSE_TEXT,
        user_defined_dpi: '300',
        debug_file: '/dev/null',
      });
      return started;
    });
}

export function isPlausibleWord(text: string, confidence: number): boolean {
  const characters = [...text];
  const alphanumeric = characters.filter((c) => /[\p{L}\p{N}]/u.test(c)).length;
  return (
    confidence >= MIN_WORD_CONFIDENCE &&
    alphanumeric >= MIN_WORD_LENGTH &&
    alphanumeric / characters.length >= 0.75 &&
    /\p{L}/u.test(text)
  );
}

async function ocrInput(
  image: DecodedImage,
  longSide: number,
): Promise<{ png: Buffer; width: number; height: number }> {
  const scale = longSide / Math.max(image.width, image.height);
  const { data, info } = await rawInput(image)
    .flatten({ background: '#ffffff' })
    .greyscale()
    .resize(Math.round(image.width * scale), Math.round(image.height * scale))
    .png({ compressionLevel: 1 })
    .toBuffer({ resolveWithObject: true });
  return { png: data, width: info.width, height: info.height };
}

export async function readText(image: DecodedImage): Promise<ReadText> {
  worker ??= startWorker();
  const ocr = await worker;
  let best: ReadWord[] = [];
  for (const longSide of OCR_LONG_SIDES) {
    const words = await readAt(ocr, await ocrInput(image, longSide));
    if (characters(words) > characters(best)) best = words;
    // Most photos have no text; a second size rarely finds words the first found none of, and costs as much.
    if (best.length === 0) break;
  }
  return { text: best.map((word) => word.text).join(' '), words: best, language: 'eng' };
}

const characters = (words: readonly ReadWord[]) => words.reduce((sum, word) => sum + word.text.length, 0);

async function readAt(
  ocr: Tesseract.Worker,
  input: { png: Buffer; width: number; height: number },
): Promise<ReadWord[]> {
  const { data } = await ocr.recognize(input.png, {}, { text: false, blocks: true });
  return (data.blocks ?? [])
    .flatMap((block) =>
      block.paragraphs.flatMap((paragraph) => paragraph.lines.flatMap((line) => line.words)),
    )
    .filter((word) => isPlausibleWord(word.text, word.confidence))
    .map((word) => ({
      text: word.text,
      confidence: Number((word.confidence / 100).toFixed(3)),
      box: [
        word.bbox.x0 / input.width,
        word.bbox.y0 / input.height,
        (word.bbox.x1 - word.bbox.x0) / input.width,
        (word.bbox.y1 - word.bbox.y0) / input.height,
      ].map((v) => Number(v.toFixed(4))) as Box,
    }));
}

export async function stopTextReader(): Promise<void> {
  const current = worker;
  worker = undefined;
  await (await current?.catch(() => undefined))?.terminate();
}
