import { peerfetchProject } from '../../vitest.shared.js';

export default peerfetchProject(import.meta.dirname);
